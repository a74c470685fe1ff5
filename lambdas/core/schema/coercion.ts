/**
 * Lossless scalar coercion: a value of the wrong JSON type is converted to the declared type only
 * when converting back gives the very same value, so nothing the source sent is lost.
 *   number or boolean → string      (0 → "0", true → "true": String() is exact for both)
 *   numeric string → number         only when String(Number(s)) === s ("42" yes; "042", "1.0", "1e3" no)
 *   "true" / "false" → boolean
 * Anything else (null, objects, arrays, "1.5" for an integer, numbers for an RFC 3339 string) is
 * left alone and stays invalid.
 */
import type { PantherAnnotation } from './vocabulary';

function exactNumber(value: string, integral: boolean): number | undefined {
  const number = Number(value);
  if (value === '' || String(number) !== value) return undefined;
  return integral && !Number.isInteger(number) ? undefined : number;
}

/** The coerced value, or undefined when no lossless coercion to the declared type exists. */
export function coerceLosslessly(value: unknown, declared: PantherAnnotation): unknown {
  switch (declared.type) {
    case 'string':
      return typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
    case 'int':
    case 'smallint':
    case 'bigint':
      return typeof value === 'string' ? exactNumber(value, true) : undefined;
    case 'float':
      return typeof value === 'string' ? exactNumber(value, false) : undefined;
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : undefined;
    case 'timestamp': {
      const numeric = (declared.timeFormats ?? []).filter((format) => format !== 'rfc3339');
      if (typeof value !== 'string' || numeric.length === 0) return undefined;
      return exactNumber(value, !numeric.includes('unix'));
    }
    case 'object':
    case 'array':
    case 'json':
      return undefined;
  }
}
