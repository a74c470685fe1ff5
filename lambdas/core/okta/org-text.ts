/**
 * The one way a string that an org (or anything in front of it) sent us becomes text we may log,
 * store, print or put in an error: error codes, summaries, causes, OAuth `error` and
 * `error_description`, header values, URLs from links.
 *
 * The order is what makes it safe:
 * 1. only a bounded window of the input is looked at, so a 30 MB body costs no more than a short one;
 * 2. invisible characters are removed (C0, DEL and C1 controls, every Unicode format character such
 *    as the soft hyphen, bidi overrides and tag characters, line and paragraph separators, and the
 *    other default-ignorable code points such as variation selectors), and `%xx` escapes are decoded,
 *    again until none is left: nothing can move a terminal's cursor, retitle it, hide text, or split
 *    or encode a credential to slip past step 3;
 * 3. every credential, and every 12-character piece of one, is replaced by `[redacted]`, on the
 *    whole window, whatever the case of its letters (a URL parser lowercases a host): an org that
 *    echoes a token whole, cut in half, across the truncation point, percent-encoded or case-folded
 *    loses all of it;
 * 4. only then is the result cut to `maxLength`.
 */

/** Pieces of a credential this long or longer are redacted wherever they appear. */
export const CREDENTIAL_PIECE_LENGTH = 12;

/** Default bound of one org-sent string in a message. */
export const MAX_ORG_TEXT_LENGTH = 300;

const REDACTED = '[redacted]';

/**
 * Controls (`Cc`: C0 such as ESC, BEL, CR, LF, TAB, then DEL and C1 such as the 8-bit CSI), format
 * characters (`Cf`: soft hyphen, bidi embeddings, overrides and isolates, zero-width joiners and
 * marks, tags U+E0001-E007F...), line and paragraph separators (`Zl`, `Zp`), and whatever else
 * Unicode says to render as nothing (`Default_Ignorable_Code_Point`: variation selectors, fillers):
 * by category, not a hand-written list, so no invisible character is forgotten.
 */
const CONTROL_CHARACTERS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/gu;

/** Removes control characters (part of step 2), for text that holds no credential but reaches a terminal. */
export function stripControlCharacters(text: string): string {
  return text.replace(CONTROL_CHARACTERS, '');
}

/**
 * `CONTROL_CHARACTERS` but C0: `JSON.stringify` escapes those inside strings, and outside them they
 * are the line breaks and spaces between values, which must stay.
 */
const RAW_IN_JSON = /[\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/gu;

/**
 * JSON text as the same JSON value, with every character `stripControlCharacters` would remove
 * that `JSON.stringify` leaves raw in strings (DEL, C1 controls such as the 8-bit CSI U+009B, bidi overrides
 * and other format characters, U+2028/U+2029) written as `\uXXXX` escapes: safe on a terminal,
 * and still parsing to exactly the same value. Only for JSON text (one value or NDJSON lines):
 * there, these characters can only stand inside strings, where an escape means the character itself.
 */
export function terminalSafeJson(json: string): string {
  return json.replace(RAW_IN_JSON, (character) =>
    Array.from({ length: character.length }, (_, unit) => `\\u${character.charCodeAt(unit).toString(16).padStart(4, '0')}`).join(''),
  );
}

/** One or more `%xx` escapes in a row: the bytes of one UTF-8 text. */
const PERCENT_ESCAPES = /(?:%[0-9a-f]{2})+/giu;

/**
 * Step 2: control characters removed and `%xx` escapes decoded, in turn until neither changes the
 * text (each decoding pass shortens it, so this ends), so that neither a control character inside
 * an escape (`%3\u00ad0`) nor a double encoding (`%2530`) hides a credential.
 */
function plainText(text: string): string {
  let plain = stripControlCharacters(text);
  for (;;) {
    const decoded = plain.replace(PERCENT_ESCAPES, (escapes) => Buffer.from(escapes.replace(/%/g, ''), 'hex').toString('utf8'));
    if (decoded === plain) return plain;
    plain = stripControlCharacters(decoded);
  }
}

/**
 * Letters in lower case, each UTF-16 unit still at its index (a letter whose lower case is longer,
 * like U+0130, stays as it is), so that a match found in the folded text masks the same positions
 * of the text shown.
 */
function foldCase(text: string): string {
  return text.replace(/[\p{Lu}\p{Lt}]/gu, (letter) => {
    const lower = letter.toLowerCase();
    return lower.length === letter.length ? lower : letter;
  });
}

/**
 * `text` bounded to `maxLength` characters (plus `...` when cut), without control characters,
 * with every credential in `secrets` and every 12-character piece of one redacted, in that safe
 * order (see the top of this file).
 */
export function safeOrgText(text: string, secrets: readonly string[], maxLength: number = MAX_ORG_TEXT_LENGTH): string {
  const needles = credentialPieces(secrets);
  const longest = needles.reduce((max, needle) => Math.max(max, needle.length), 0);
  // Enough input to fill maxLength even when a stripped control character sat every other
  // position, plus a whole credential beyond it: what is cut off can never complete a match that
  // reaches into what is kept.
  const longestSecret = secrets.reduce((max, secret) => Math.max(max, secret.length), 0);
  const windowLength = 2 * maxLength + longestSecret + 2;
  const windowWasCut = text.length > windowLength;
  // An escape cut short by the window (`%3`) would stay undecoded and hide the credential it starts.
  const window = plainText(windowWasCut ? text.slice(0, windowLength).replace(/%[0-9a-f]?$/iu, '') : text);
  const folded = foldCase(window);

  const masked = new Uint8Array(window.length);
  if (longest > 0) {
    for (const needle of needles) {
      for (let at = folded.indexOf(needle); at !== -1; at = folded.indexOf(needle, at + 1)) masked.fill(1, at, at + needle.length);
    }
    if (windowWasCut)
      maskCredentialPrefixAtEnd(
        folded,
        masked,
        secrets.map((secret) => foldCase(plainText(secret))),
      );
  }

  let result = '';
  let index = 0;
  while (index < window.length && result.length < maxLength) {
    if (masked[index] === 1) {
      result += REDACTED;
      while (index < window.length && masked[index] === 1) index += 1;
      continue;
    }
    result += window[index];
    index += 1;
  }
  if (result.length > maxLength) result = result.slice(0, maxLength);
  // A lone high surrogate at the cut would make the text invalid UTF-16 in a JSON log line.
  if (/[\ud800-\udbff]$/.test(result)) result = result.slice(0, -1);
  const cut = index < window.length || windowWasCut;
  return cut ? `${result}...` : result;
}

/**
 * Every credential whole (when shorter than a piece) and each of its 12-character pieces, as
 * plain, case-folded text like the text they are looked for in (so a PEM key's line breaks must
 * not hide it).
 */
function credentialPieces(secrets: readonly string[]): string[] {
  const pieces = new Set<string>();
  for (const raw of secrets) {
    const secret = foldCase(plainText(raw));
    if (secret.length === 0) continue;
    if (secret.length <= CREDENTIAL_PIECE_LENGTH) {
      pieces.add(secret);
      continue;
    }
    for (let at = 0; at + CREDENTIAL_PIECE_LENGTH <= secret.length; at += 1) pieces.add(secret.slice(at, at + CREDENTIAL_PIECE_LENGTH));
  }
  return [...pieces];
}

/** The window ends inside the input: a credential's beginning at its very end is masked too (both sides case-folded). */
function maskCredentialPrefixAtEnd(window: string, masked: Uint8Array, secrets: readonly string[]): void {
  for (const secret of secrets) {
    for (let length = Math.min(secret.length, window.length); length > 0; length -= 1) {
      if (window.endsWith(secret.slice(0, length))) {
        masked.fill(1, window.length - length);
        break;
      }
    }
  }
}
