import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Diagnostic } from '../../../src/diagnostics/diagnostic.js';
import { LineMap } from '../../../src/diagnostics/span.js';
import { formatDsl, parseDsl } from '../../../src/frontend/dsl/index.js';
import { spansIn, withoutSpans } from './helpers.js';

const dir = path.join(import.meta.dirname, 'fixtures');
const samples = readdirSync(dir)
  .filter((f) => f.endsWith('.intent'))
  .map((f) => readFileSync(path.join(dir, f), 'utf8'));

const TOKENS = [
  'tenant', 'group', 'policy', 'fixed-ip', 'pool', 'egress-gateway', 'rate', 'cluster', 'networkpolicy', 'include', 'let',
  'pods', 'cidr', 'in', 'namespace', 'namespaces', 'where', 'all', 'any', 'or', 'on', 'allow', 'deny', 'http', 'kafka',
  'dns', 'tier', 'priority', 'select', 'types', 'ingress', 'egress', 'from', 'to', 'except', 'log', 'l4-only', 'icmp', 'type',
  'web', 'ns/name', 'tcp/80', 'tcp/', '10.0.0.0/8', '10M', '5ms', '1%', '42', '$x', '"str"', '"open', '{', '}', '(', ')', ',',
  '=', '!=', '!', '->', '*', '# comment\n', '// c\n', '\n', '@', '\u00e9', 'GET', '-', '/',
];

/** Every diagnostic span lies inside the file, and its line/col agree with its offsets. */
function checkSpans(file: string, text: string, diagnostics: Diagnostic[]): void {
  const lines = new LineMap(file, text);
  for (const d of diagnostics) {
    const s = d.span!;
    expect(s.file).toBe(file);
    expect(0 <= s.start.offset && s.start.offset <= s.end.offset && s.end.offset <= text.length, d.message).toBe(true);
    expect(lines.position(s.start.offset)).toEqual(s.start);
    expect(lines.position(s.end.offset)).toEqual(s.end);
  }
}

/** Parse and format never throw, stay fast, never find two parses, and report spans inside the file. */
function robust(text: string): void {
  const started = performance.now();
  const parsed = parseDsl('f.intent', text);
  checkSpans('f.intent', text, parsed.diagnostics);
  expect(parsed.diagnostics.filter((d) => d.code === 'NI1005' || d.code === 'NI9004')).toEqual([]);
  for (const s of spansIn(parsed.source.decls)) {
    expect(s.file).toBe('f.intent');
    expect(0 <= s.start.offset && s.start.offset <= s.end.offset && s.end.offset <= text.length).toBe(true);
  }
  const formatted = formatDsl('f.intent', text);
  if (!formatted.diagnostics.some((d) => d.severity === 'error')) {
    expect(formatDsl('f.intent', formatted.text).text).toBe(formatted.text);
    expect(withoutSpans(parseDsl('f.intent', formatted.text).source)).toEqual(withoutSpans(parsed.source));
  }
  expect(performance.now() - started).toBeLessThan(1000);
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 3 })) }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), other: fc.nat() }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(text: string, list: Mutation[]): string {
  let t = text;
  for (const m of list) {
    const at = t.length ? m.at % t.length : 0;
    if (m.kind === 'delete') t = t.slice(0, at) + t.slice(at + m.length);
    else if (m.kind === 'insert') t = t.slice(0, at) + m.text + t.slice(at);
    else if (t.length) {
      const other = m.other % t.length;
      const chars = [...t];
      [chars[at], chars[other]] = [chars[other]!, chars[at]!];
      t = chars.join('');
    }
  }
  return t;
}

describe('robustness', () => {
  test('random token soup', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...TOKENS), fc.constantFrom(' ', '', '\n', '  ')), { maxLength: 80 }), (parts) => {
        robust(parts.map(([tok, ws]) => tok + ws).join(''));
      }),
      { numRuns: 300 },
    );
  });

  test('random mutations of valid programs', () => {
    fc.assert(
      fc.property(fc.constantFrom(...samples), fc.array(mutation, { minLength: 1, maxLength: 6 }), (text, list) => {
        robust(mutate(text, list));
      }),
      { numRuns: 300 },
    );
  });

  test('arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200, unit: 'binary' }), (text) => robust(text)), { numRuns: 200 });
  });
});
