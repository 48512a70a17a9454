import { createHash } from 'node:crypto';

/**
 * Canonical JSON: object keys sorted, undefined dropped. Pretty output indents by two
 * spaces and keeps leaves (objects and arrays of scalars, such as a port or a source
 * span) on one line, which reads well in review and keeps large IRs small. The same value
 * always gives the same bytes, whatever the construction order.
 *
 * The IR of a large corpus is many megabytes, so the bytes come from the engine's own
 * `JSON.stringify` over a key-sorted copy, and leaves are folded onto one line by one
 * regular-expression pass: several times faster than writing every piece in JavaScript.
 * Integer-like keys, which JavaScript always enumerates first, come first in numeric order.
 */
export function canonicalJson(value: unknown, pretty = false): string {
  const sorted = sortedCopy(value);
  if (!pretty) return JSON.stringify(sorted) ?? 'null';
  return (JSON.stringify(sorted, null, 2) ?? 'null').replace(EXPANDED_LEAF, foldLeaf);
}

/** Longest leaf that pretty output keeps on one line. */
const INLINE_WIDTH = 100;

/** One member of an expanded leaf: an optional key, then a scalar, `[]` or `{}` (JSON strings never hold a raw newline). */
const LEAF_ITEM = String.raw`(?:"(?:[^"\\\n]|\\.)*": )?(?:"(?:[^"\\\n]|\\.)*"|[-+.\deE]+|true|false|null|\[\]|\{\})`;
const EXPANDED_LEAF = new RegExp(String.raw`[{[]\n *${LEAF_ITEM}(?:,\n *${LEAF_ITEM})*\n *[}\]]`, 'g');

function foldLeaf(expanded: string): string {
  const line = expanded.replace(/,\n +/g, ', ').replace(/\n */g, '');
  return line.length <= INLINE_WIDTH ? line : expanded;
}

/** Whether keys are in canonical order already (they are in objects built in that order). */
function inCanonicalOrder(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (!(keys[i - 1]! < keys[i]!)) return false;
  return true;
}

/** The value with object keys sorted and undefined dropped; parts already so are shared, not copied. */
function sortedCopy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      const c = v === undefined ? null : sortedCopy(v);
      if (c !== v && !copy) copy = value.slice(0, i);
      if (copy) copy.push(c);
    }
    return copy ?? value;
  }
  const toJson = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof toJson === 'function') return sortedCopy(toJson.call(value));
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  let copy: Record<string, unknown> | undefined = inCanonicalOrder(keys) ? undefined : {};
  if (copy) keys.sort();
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = obj[k];
    const c = v === undefined ? undefined : sortedCopy(v);
    if (!copy && c !== v) {
      copy = {};
      for (let j = 0; j < i; j++) if (obj[keys[j]!] !== undefined) copy[keys[j]!] = obj[keys[j]!];
    }
    if (copy && c !== undefined) copy[k] = c;
  }
  return copy ?? obj;
}

/** Short content hash for generated names: a change touches only the names it changes. */
export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 10);
}
