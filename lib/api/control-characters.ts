// Control characters are refused at the boundary, before any schema or query sees them.
// PostgreSQL cannot store NUL in text at all (the query fails: a 500 instead of a 400),
// and no field Flotilla takes means anything with a control character in it. Tab, line
// feed and carriage return stay allowed: Nix modules and messages have lines.
import { AppError } from './errors';

// eslint-disable-next-line no-control-regex -- the characters are the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export function hasControlCharacter(text: string): boolean {
  return CONTROL.test(text);
}

/** The path of the first string (or object key) in `value` holding a control character. */
export function findControlCharacter(value: unknown, path: (string | number)[] = [], depth = 0): string | null {
  if (typeof value === 'string') return CONTROL.test(value) ? path.join('.') || '(value)' : null;
  if (depth > 64 || value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findControlCharacter(value[i], [...path, i], depth + 1);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    if (CONTROL.test(key)) return [...path, '(key)'].join('.');
    const found = findControlCharacter(item, [...path, key], depth + 1);
    if (found !== null) return found;
  }
  return null;
}

// The same characters percent-encoded in a URL (a raw one cannot reach us: Node refuses it).
const ENCODED_CONTROL = /%(0[0-8bcef]|1[0-9a-f]|7f)/i;

/** True when a request target carries an encoded control character in its path or query. */
export function urlHasControlCharacter(url: string): boolean {
  return ENCODED_CONTROL.test(url);
}

/** A 400 naming the field, like any other invalid input. */
export function assertNoControlCharacters(value: unknown, what: string) {
  const at = findControlCharacter(value);
  if (at === null) return;
  const message = 'Control characters (such as NUL) are not allowed';
  throw new AppError('invalid_request', `Invalid ${what} at "${at}": ${message}`, { issues: [{ path: at, message }] });
}
