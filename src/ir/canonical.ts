/**
 * Canonical JSON: object keys sorted, undefined dropped, 2-space indentation when pretty.
 * The same value always gives the same bytes, whatever the construction order. Written as
 * a direct serialiser (no sorted copy of the value) because the IR of a large corpus is
 * many megabytes.
 */
export function canonicalJson(value: unknown, pretty = false): string {
  return write(value, pretty ? '\n' : '', pretty);
}

function write(value: unknown, newline: string, pretty: boolean): string {
  if (value === null || value === undefined || typeof value !== 'object') return value === undefined ? 'null' : JSON.stringify(value);
  const inner = pretty ? `${newline}  ` : '';
  const colon = pretty ? ': ' : ':';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    let text = '[';
    for (let i = 0; i < value.length; i++) text += (i ? ',' : '') + inner + write(value[i], inner, pretty);
    return `${text}${newline}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  if (keys.length === 0) return '{}';
  let text = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    text += (i ? ',' : '') + inner + JSON.stringify(k) + colon + write(obj[k], inner, pretty);
  }
  return `${text}${newline}}`;
}
