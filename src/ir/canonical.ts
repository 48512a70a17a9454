/**
 * Canonical JSON: object keys sorted, undefined dropped. Pretty output indents by two
 * spaces and keeps leaves (objects and arrays of scalars, such as a port or a source
 * span) on one line, which reads well in review and keeps large IRs small. The same value
 * always gives the same bytes, whatever the construction order. A direct serialiser (no
 * sorted copy of the value) because the IR of a large corpus is many megabytes.
 */
export function canonicalJson(value: unknown, pretty = false): string {
  return write(value, pretty ? '\n' : '', pretty);
}

/** Longest leaf that pretty output keeps on one line. */
const INLINE_WIDTH = 100;

function isScalar(v: unknown): boolean {
  return v === null || typeof v !== 'object' || (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0);
}

function sortedKeys(obj: Record<string, unknown>): string[] {
  return Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
}

function write(value: unknown, newline: string, pretty: boolean): string {
  if (value === null || value === undefined || typeof value !== 'object') return value === undefined ? 'null' : JSON.stringify(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (pretty && value.every(isScalar)) {
      const line = `[${value.map((v) => write(v, '', false)).join(', ')}]`;
      if (line.length <= INLINE_WIDTH) return line;
    }
    const inner = pretty ? `${newline}  ` : '';
    let text = '[';
    for (let i = 0; i < value.length; i++) text += (i ? ',' : '') + inner + write(value[i], inner, pretty);
    return `${text}${newline}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = sortedKeys(obj);
  if (keys.length === 0) return '{}';
  if (pretty && keys.every((k) => isScalar(obj[k]))) {
    const line = `{${keys.map((k) => `${JSON.stringify(k)}: ${write(obj[k], '', false)}`).join(', ')}}`;
    if (line.length <= INLINE_WIDTH) return line;
  }
  const inner = pretty ? `${newline}  ` : '';
  const colon = pretty ? ': ' : ':';
  let text = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    text += (i ? ',' : '') + inner + JSON.stringify(k) + colon + write(obj[k], inner, pretty);
  }
  return `${text}${newline}}`;
}
