/**
 * Splits a page body (a JSON array, as raw UTF-8 chunks) into one slice per event without
 * building any of it: a single pass over the bytes that tracks only strings, escapes and the
 * nesting depth. Each event is then parsed on its own, if its size and depth allow, so one huge
 * or deeply nested event can neither blow up the heap nor the stack, and costs only its bytes.
 *
 * The scanner checks the array's outer grammar (`[`, elements separated by commas, `]`, nothing
 * after); an element that is not valid JSON is found by `JSON.parse` of its own slice.
 */

/** One element of the page, as bytes; parsed only by whoever decides it is safe to. */
export interface RawEvent {
  /** Length of its JSON text in bytes. */
  readonly bytes: number;
  /** Deepest nesting of objects and arrays in it (a scalar is 0, `{}` is 1). */
  readonly depth: number;
  /**
   * What the scanner counted outside strings, for writing the record as the event's own text
   * (`pull/raw-record.ts`); absent when not counted (a truncated event, never parsed), and then
   * the record is re-serialised. `members`: members of all its objects, the colons (in valid JSON
   * each member has exactly one; `JSON.parse` keeps one member per key, so a parsed value with
   * fewer had a duplicate key). `fractions`: numbers written with a fraction (`1.5`, `1.0`), the
   * dots. `exponents`: numbers written with an exponent (`1e3`), the `e`s and `E`s less the one of
   * each `true` and `false`.
   */
  readonly members?: number;
  readonly fractions?: number;
  readonly exponents?: number;
  /**
   * True when the body was cut off inside this element (it was larger than the page bound and
   * the page held only it): `text()` is its beginning only.
   */
  readonly truncated: boolean;
  /** Its JSON text (decoded from UTF-8). */
  text(): string;
  /** Its bytes, as views over the chunks the body arrived in (no copy). */
  views(): readonly Uint8Array[];
}

export type ScanResult =
  | {
      readonly events: RawEvent[];
      /**
       * Lets go of the body's chunks: from then on its events' `text()` and `views()` throw. The
       * events of a page live as long as whatever still refers to the page (a pull keeps it until
       * its cursor is saved), and through them the body would stay reachable after the page
       * budget had already counted it as given back, out of reach of the collection that follows.
       */
      drop(): void;
    }
  | { readonly error: string };

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COLON = 0x3a;
const DOT = 0x2e;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const LOWER_T = 0x74;
const LOWER_F = 0x66;

function isWhitespace(byte: number): boolean {
  return byte === SPACE || byte === LF || byte === CR || byte === TAB;
}

/** The bytes of a body, in the chunks it arrived in (no copy), addressed by global offset. */
class ChunkedBytes {
  private readonly starts: number[] = [];
  private length = 0;
  private dropped = false;

  constructor(private chunks: readonly Uint8Array[]) {
    for (const chunk of chunks) {
      this.starts.push(this.length);
      this.length += chunk.byteLength;
    }
  }

  /**
   * Decodes the bytes from `start` to `end`. An element spread over several chunks is decoded
   * chunk by chunk (a character cut between two chunks is completed by the next), not copied into
   * one buffer first: a 12 MiB event would otherwise cost 12 MiB of native memory on top of its
   * string. Invalid UTF-8 becomes U+FFFD and a byte order mark is kept, as `Buffer#toString` does.
   */
  text(start: number, end: number): string {
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    let text = '';
    for (const view of this.views(start, end)) text += decoder.decode(view, { stream: true });
    return text + decoder.decode();
  }

  /** The bytes from `start` to `end`, as views over the chunks they are in. */
  views(start: number, end: number): Uint8Array[] {
    if (this.dropped) throw new Error('the page was released: its bytes are no longer held');
    const views: Uint8Array[] = [];
    for (let index = this.chunkAt(start); index < this.chunks.length && this.starts[index]! < end; index += 1) {
      const chunk = this.chunks[index]!;
      const chunkStart = this.starts[index]!;
      const from = Math.max(start, chunkStart) - chunkStart;
      const to = Math.min(end, chunkStart + chunk.byteLength) - chunkStart;
      views.push(chunk.subarray(from, to));
    }
    return views;
  }

  /** Lets go of the chunks (see `ScanResult`'s `drop`). */
  drop(): void {
    this.dropped = true;
    this.chunks = [];
  }

  private chunkAt(offset: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.starts[middle]! <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }
}

/**
 * Scans a body that should be a JSON array of at most `maxElements` elements.
 * @param truncated the body was cut off on purpose (over the page bound with `limit=1`): the
 *   single element it starts is returned as `truncated` instead of an error.
 */
export function scanJsonArray(chunks: readonly Uint8Array[], maxElements: number, truncated = false): ScanResult {
  const bytes = new ChunkedBytes(chunks);
  const events: RawEvent[] = [];
  let offset = 0;
  let opened = false;
  let closed = false;
  let expectElement = false;
  let inElement = false;
  let inString = false;
  let escaped = false;
  let nesting = 0;
  let elementStart = 0;
  let elementEnd = 0;
  let elementDepth = 0;
  let elementMembers = 0;
  let elementFractions = 0;
  let elementExponents = 0;

  const finishElement = (): string | undefined => {
    inElement = false;
    if (events.length >= maxElements) return `the page holds more than ${maxElements} events, more than its limit`;
    const start = elementStart;
    const end = elementEnd;
    events.push({
      bytes: end - start,
      depth: elementDepth,
      members: elementMembers,
      fractions: elementFractions,
      exponents: elementExponents,
      truncated: false,
      text: () => bytes.text(start, end),
      views: () => bytes.views(start, end),
    });
    return undefined;
  };

  for (const chunk of chunks) {
    for (let index = 0; index < chunk.byteLength; index += 1, offset += 1) {
      const byte = chunk[index]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (byte === BACKSLASH) escaped = true;
        else if (byte === QUOTE) inString = false;
        elementEnd = offset + 1;
        continue;
      }
      if (inElement) {
        if (byte === QUOTE) {
          inString = true;
        } else if (byte === COLON) {
          elementMembers += 1;
        } else if (byte === DOT) {
          elementFractions += 1;
        } else if (byte === LOWER_E || byte === UPPER_E) {
          elementExponents += 1;
        } else if (byte === LOWER_T || byte === LOWER_F) {
          // `true` and `false` each hold one `e`, and the only other letters outside strings are `null`'s.
          elementExponents -= 1;
        } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
          nesting += 1;
          if (nesting > elementDepth) elementDepth = nesting;
        } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
          if (nesting === 0) {
            if (byte === CLOSE_BRACE) return { error: 'the body is not a JSON array (unbalanced braces)' };
            const problem = finishElement();
            if (problem !== undefined) return { error: problem };
            closed = true;
            opened = false;
            continue;
          }
          nesting -= 1;
        } else if (byte === COMMA && nesting === 0) {
          const problem = finishElement();
          if (problem !== undefined) return { error: problem };
          expectElement = true;
          continue;
        } else if (isWhitespace(byte)) {
          continue;
        }
        elementEnd = offset + 1;
        continue;
      }
      if (isWhitespace(byte)) continue;
      if (closed) return { error: 'the body has data after the JSON array' };
      if (!opened) {
        if (byte !== OPEN_BRACKET) return { error: 'the body is not a JSON array' };
        opened = true;
        continue;
      }
      if (byte === CLOSE_BRACKET) {
        if (expectElement) return { error: 'the body is not a JSON array (a comma before the closing bracket)' };
        closed = true;
        opened = false;
        continue;
      }
      if (byte === COMMA) return { error: 'the body is not a JSON array (an empty element)' };
      // The first byte of an element: it is handled like any byte inside one.
      inElement = true;
      expectElement = false;
      elementStart = offset;
      elementEnd = offset + 1;
      elementDepth = 0;
      elementMembers = 0;
      elementFractions = 0;
      elementExponents = 0;
      nesting = 0;
      if (byte === QUOTE) inString = true;
      else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        nesting = 1;
        elementDepth = 1;
      }
    }
  }
  if (closed) return { events, drop: () => bytes.drop() };
  if (truncated && inElement && events.length === 0) {
    const start = elementStart;
    const end = offset;
    return {
      events: [
        {
          bytes: end - start,
          depth: elementDepth,
          truncated: true,
          text: () => bytes.text(start, end),
          views: () => bytes.views(start, end),
        },
      ],
      drop: () => bytes.drop(),
    };
  }
  return { error: 'the body is not a complete JSON array (truncated?)' };
}

/** One JSON text (an NDJSON line) measured like a page's element: its bytes and nesting depth. */
export function rawEventOfText(text: string): RawEvent {
  const bytes = Buffer.from(text, 'utf8');
  const scanned = scanJsonArray([Buffer.from('['), bytes, Buffer.from(']')], 1);
  // Not exactly one JSON value: nothing deep to fear, and JSON.parse will say what is wrong.
  const only = 'events' in scanned && scanned.events.length === 1 ? scanned.events[0] : undefined;
  return {
    bytes: bytes.byteLength,
    depth: only?.depth ?? 0,
    members: only?.members ?? 0,
    fractions: only?.fractions ?? 0,
    exponents: only?.exponents ?? 0,
    truncated: false,
    text: () => text,
    views: () => [bytes],
  };
}
