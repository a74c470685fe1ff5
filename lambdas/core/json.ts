/** JSON helpers for text from outside (secrets, Okta answers, files, logs): parse errors are dropped. */

/** A JSON object: not null, not an array. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The parsed value, or `undefined` when `text` is not JSON. The SyntaxError is dropped on purpose:
 * V8 quotes the text it failed on, which may be a credential or anything an org sent.
 */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The text as a JSON object, or `undefined` when it is not JSON or not an object. */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  const parsed = parseJson(text);
  return isPlainObject(parsed) ? parsed : undefined;
}
