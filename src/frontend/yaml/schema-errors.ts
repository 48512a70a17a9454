/**
 * Validates an IntentSet document against schemas/intent.schema.json and turns ajv's
 * errors into NI1102 diagnostics in words, each pointing at the offending YAML node.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import schema from '../../../schemas/intent.schema.json' with { type: 'json' };
import { diag, type Diagnostic } from '../../diagnostics/diagnostic.js';
import type { Span } from '../../diagnostics/span.js';
import type { YamlDoc } from './nodes.js';

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true }).compile(schema);
  return compiled;
}

interface Finding {
  instancePath: string;
  message: string;
  span: Span;
}

/** All schema problems of one document, deduplicated, in document order. */
export function schemaDiagnostics(y: YamlDoc, data: unknown): Diagnostic[] {
  const validate = validator();
  if (validate(data)) return [];
  const findings = explain(y, data, [...(validate.errors ?? [])]);
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const f of findings) {
    const key = `${f.span.start.offset}:${f.span.end.offset}:${f.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(diag('NI1102', f.span, [f.message]));
  }
  return out.sort((a, b) => a.span!.start.offset - b.span!.start.offset);
}

const COMPOSITE = new Set(['anyOf', 'oneOf']);

function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

function depth(path: string): number {
  return path === '' ? 0 : path.split('/').length;
}

/**
 * Unions (`anyOf`/`oneOf`) make ajv report every branch. Deepest first, a union keeps only
 * the errors of the branch the value's type selected; when no branch fits the type at all,
 * its type errors become one "must be a string or a map" finding.
 */
function explain(y: YamlDoc, data: unknown, errors: ErrorObject[]): Finding[] {
  const live = new Set(errors);
  const findings: Finding[] = [];
  const meaningful = (p: string) =>
    findings.some((f) => under(f.instancePath, p)) ||
    [...live].some((e) => under(e.instancePath, p) && e.keyword !== 'type' && !COMPOSITE.has(e.keyword) && !isBranchRequired(e));

  for (const e of errors.filter((e) => e.keyword === 'oneOf' && isExactlyOneOf(e))) {
    live.delete(e);
    for (const r of errors) if (isBranchRequired(r) && r.instancePath === e.instancePath) live.delete(r);
    const value = valueAt(data, e.instancePath);
    if (!isPlainObject(value)) continue; // the type error at this path says it all
    const kinds = (e.parentSchema as { oneOf: { required: string[] }[] }).oneOf.map((b) => b.required[0]!);
    const present = kinds.filter((k) => k in value);
    const what = title(e);
    const message =
      present.length > 1
        ? `${what} ${where(e.instancePath)} may have only one of ${quoteList(kinds)}, but has ${quoteList(present)}`
        : `${what} ${where(e.instancePath)} needs one of ${quoteList(kinds)}`;
    findings.push({ instancePath: e.instancePath, message, span: nodeSpan(y, e.instancePath) });
  }

  const unionPaths = [...new Set(errors.filter((e) => COMPOSITE.has(e.keyword) && live.has(e)).map((e) => e.instancePath))];
  unionPaths.sort((a, b) => depth(b) - depth(a));
  for (const p of unionPaths) {
    const atPath = [...live].filter((e) => e.instancePath === p && (e.keyword === 'type' || COMPOSITE.has(e.keyword)));
    for (const e of atPath) live.delete(e);
    if (meaningful(p)) continue;
    const types = [...new Set(atPath.filter((e) => e.keyword === 'type').flatMap((e) => String((e.params as { type: string }).type).split(',')))];
    const message = types.length > 0 ? `${where(p)} must be ${typeList(types)}, not ${typeOf(valueAt(data, p))}` : `${where(p)} is not valid here`;
    findings.push({ instancePath: p, message, span: nodeSpan(y, p) });
  }

  for (const e of live) findings.push({ instancePath: e.instancePath, message: describe(e, data), span: errorSpan(y, e) });
  return findings;
}

function isExactlyOneOf(e: ErrorObject): boolean {
  const branches = (e.parentSchema as { oneOf?: unknown[] } | undefined)?.oneOf;
  return Array.isArray(branches) && branches.every((b) => isPlainObject(b) && Array.isArray(b.required) && Object.keys(b).length === 1);
}

function isBranchRequired(e: ErrorObject): boolean {
  return e.keyword === 'required' && /\/oneOf\/\d+\/required$/.test(e.schemaPath);
}

function describe(e: ErrorObject, data: unknown): string {
  const at = where(e.instancePath);
  const params = e.params as Record<string, unknown>;
  const parent = e.parentSchema as Record<string, unknown> | undefined;
  switch (e.keyword) {
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      const known = Object.keys((parent?.properties as object | undefined) ?? {});
      const guess = closest(field, known);
      return `unknown field "${field}" in ${title(e)}${e.instancePath ? ` ${at}` : ''}${guess ? ` (did you mean "${guess}"?)` : ` (expected ${quoteList(known)})`}`;
    }
    case 'required':
      return `missing field "${String(params.missingProperty)}" in ${title(e)}${e.instancePath ? ` ${at}` : ''}`;
    case 'dependencies':
      return `field "${String(params.property)}" in ${title(e)} ${at} needs field "${String(params.missingProperty)}"`;
    case 'type':
      return `${at} must be ${typeList(String(params.type).split(','))}, not ${typeOf(e.data)}`;
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const guess = typeof e.data === 'string' ? closest(e.data, allowed) : undefined;
      return `${at} must be one of ${allowed.join(', ')}, not ${JSON.stringify(e.data)}${guess ? ` (did you mean "${guess}"?)` : ''}`;
    }
    case 'const':
      return `${at} must be ${JSON.stringify(params.allowedValue)}, not ${JSON.stringify(e.data)}`;
    case 'pattern': {
      const examples = (parent?.examples as string[] | undefined) ?? [];
      return examples.length > 0
        ? `${at} ${JSON.stringify(e.data)} is not valid; write it like ${examples.map((x) => `"${x}"`).join(', ')}`
        : `${at} ${JSON.stringify(e.data)} contains characters that are not allowed`;
    }
    case 'minimum':
    case 'maximum':
      return `${at} must be ${String(params.comparison)} ${String(params.limit)}, not ${JSON.stringify(e.data)}`;
    case 'minItems':
      return `${at} must have at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}`;
    case 'minLength':
      return `${at} must not be empty`;
    default:
      return `${at} ${e.message ?? 'is not valid'} (${typeOf(valueAt(data, e.instancePath))})`;
  }
}

function title(e: ErrorObject): string {
  const t = (e.parentSchema as { title?: unknown } | undefined)?.title;
  return typeof t === 'string' && t !== 'netintent IntentSet' ? t : 'the document';
}

/** `/spec/policies/0/rules/1` → `spec.policies[0].rules[1]`. */
export function where(pointer: string): string {
  if (pointer === '') return 'the document';
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(segment) ? `[${segment}]` : out === '' ? segment : `.${segment}`;
  }
  return out;
}

function errorSpan(y: YamlDoc, e: ErrorObject): Span {
  const params = e.params as Record<string, unknown>;
  const key = e.keyword === 'additionalProperties' ? params.additionalProperty : e.keyword === 'dependencies' ? params.property : undefined;
  if (typeof key === 'string') {
    const { node, pair } = y.locate(`${e.instancePath}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    if (pair) {
      const keyNode = y.resolve(pair.key);
      if (keyNode) return y.span(keyNode);
    }
    if (node) return y.span(node);
  }
  return nodeSpan(y, e.instancePath);
}

function nodeSpan(y: YamlDoc, pointer: string): Span {
  const { node } = y.locate(pointer);
  return node ? y.span(node) : y.lines.span(0, 0);
}

function valueAt(data: unknown, pointer: string): unknown {
  let value = data;
  if (pointer === '') return value;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const TYPE_WORDS: Record<string, string> = { object: 'a map', array: 'a list', string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false', null: 'empty' };

function typeList(types: string[]): string {
  const words = [...new Set(types.map((t) => TYPE_WORDS[t] ?? t))];
  return words.length <= 1 ? (words[0] ?? 'something else') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

function typeOf(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return String(value);
  return `the string ${JSON.stringify(value)}`;
}

function quoteList(items: string[]): string {
  return items.map((i) => `"${i}"`).join(', ');
}

/** The known name nearest to a misspelt one, if it is close enough to be a likely typo. */
function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.ceil(best.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Infinity;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
