/**
 * The one way a string that an org (or anything in front of it) sent us becomes text we may log,
 * store, print or put in an error: error codes, summaries, causes, OAuth `error` and
 * `error_description`, header values, URLs from links.
 *
 * The order is what makes it safe:
 * 1. only a bounded window of the input is looked at, so a 30 MB body costs no more than a short one;
 * 2. control characters (C0, DEL, C1, and the bidirectional overrides) are removed, so nothing can
 *    move a terminal's cursor, retitle it, hide text, or split a credential to slip past step 3;
 * 3. every credential, and every 12-character piece of one, is replaced by `[redacted]`, on the
 *    whole window: an org that echoes a token whole, cut in half, or across the truncation point
 *    loses all of it;
 * 4. only then is the result cut to `maxLength`.
 */

/** Pieces of a credential this long or longer are redacted wherever they appear. */
export const CREDENTIAL_PIECE_LENGTH = 12;

/** Default bound of one org-sent string in a message. */
export const MAX_ORG_TEXT_LENGTH = 300;

const REDACTED = '[redacted]';

/**
 * C0 controls (ESC, BEL, CR, LF, TAB...), DEL, C1 controls (including the 8-bit CSI/OSC), and
 * the Unicode format characters that reorder or hide text (bidi embeddings, overrides, isolates,
 * zero-width joiners and marks, line/paragraph separators).
 */
const CONTROL_CHARACTERS = /[\p{Cc}\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/gu;

/** Removes control characters (step 2 alone), for text that holds no credential but reaches a terminal. */
export function stripControlCharacters(text: string): string {
  return text.replace(CONTROL_CHARACTERS, '');
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
  const window = stripControlCharacters(text.length > windowLength ? text.slice(0, windowLength) : text);
  const windowWasCut = text.length > windowLength;

  const masked = new Uint8Array(window.length);
  if (longest > 0) {
    for (const needle of needles) {
      for (let at = window.indexOf(needle); at !== -1; at = window.indexOf(needle, at + 1)) masked.fill(1, at, at + needle.length);
    }
    if (windowWasCut) maskCredentialPrefixAtEnd(window, masked, secrets.map(stripControlCharacters));
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
 * Every credential whole (when shorter than a piece) and each of its 12-character pieces,
 * without control characters (the text is compared after they are removed, so a PEM key's line
 * breaks must not hide it).
 */
function credentialPieces(secrets: readonly string[]): string[] {
  const pieces = new Set<string>();
  for (const raw of secrets) {
    const secret = stripControlCharacters(raw);
    if (secret.length === 0) continue;
    if (secret.length <= CREDENTIAL_PIECE_LENGTH) {
      pieces.add(secret);
      continue;
    }
    for (let at = 0; at + CREDENTIAL_PIECE_LENGTH <= secret.length; at += 1) pieces.add(secret.slice(at, at + CREDENTIAL_PIECE_LENGTH));
  }
  return [...pieces];
}

/** The window ends inside the input: a credential's beginning at its very end is masked too. */
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
