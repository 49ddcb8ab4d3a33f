// Nix literals for text Flotilla writes into Nix files. Browser-safe: the config editor
// shows the generated module as the build will see it.

/** A Nix string literal. Only `\`, `"`, `${` and the usual whitespace escapes mean anything in Nix; other characters stand as they are. */
export function nixString(value: string): string {
  const escaped = value.replace(/[\\"\n\r\t]|\$\{/g, (m) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[m] ?? '\\${');
  return `"${escaped}"`;
}

/** Strings, numbers, booleans, lists and attribute sets as a Nix expression (undefined attributes are left out). */
export function nixValue(value: unknown): string {
  if (typeof value === 'string') return nixString(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[ ${value.map(nixValue).join(' ')} ]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{ ${entries.map(([k, v]) => `${/^[A-Za-z_][A-Za-z0-9_'-]*$/.test(k) ? k : nixString(k)} = ${nixValue(v)};`).join(' ')} }`;
  }
  throw new Error(`no Nix literal for ${String(value)}`);
}
