import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import type { Span } from '../../../src/diagnostics/span.js';
import { LineMap } from '../../../src/diagnostics/span.js';
import { parseYamlDocuments } from '../../../src/frontend/yaml/index.js';

const full = readFileSync(new URL('./fixtures/full.yaml', import.meta.url), 'utf8');
const FILE = 'fuzz.yaml';
/** Generous bound for one parse of a small input: a slower run means a pathological path. */
const MAX_MS = 2000;

/** Every span (diagnostics and AST nodes) names the file and lies inside the text, with consistent line/col. */
function checkSpans(text: string): void {
  const started = Date.now();
  const result = parseYamlDocuments(FILE, text);
  expect(Date.now() - started).toBeLessThan(MAX_MS);
  const lines = new LineMap(FILE, text);
  const spans: Span[] = result.diagnostics.map((d) => d.span!);
  const collect = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(collect);
    else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (key === 'span') spans.push(child as Span);
        else collect(child);
      }
    }
  };
  collect(result.sources);
  for (const span of spans) {
    expect(span.file).toBe(FILE);
    expect(span.start.offset).toBeGreaterThanOrEqual(0);
    expect(span.start.offset).toBeLessThanOrEqual(span.end.offset);
    expect(span.end.offset).toBeLessThanOrEqual(text.length);
    expect(lines.position(span.start.offset)).toEqual(span.start);
    expect(lines.position(span.end.offset)).toEqual(span.end);
  }
  for (const d of result.diagnostics) expect(d.message).toMatch(/\.$/);
}

const yamlChar = fc.constantFrom(...':-[]{}&*!|>\'"%@`#,?\n\n  \tabcxyz019./'.split(''));
const yamlish = fc.string({ unit: yamlChar, maxLength: 300 });

/** A text edit: delete `length` characters at `at` (a fraction of the text) and insert `insert`. */
const mutation = fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), length: fc.nat(40), insert: yamlish });

function mutate(text: string, { at, length, insert }: { at: number; length: number; insert: string }): string {
  const position = Math.floor(at * text.length);
  return text.slice(0, position) + insert + text.slice(position + length);
}

const canonicalNetpol = full.slice(full.indexOf('apiVersion: networking.k8s.io/v1'));
const intentSetHead = 'apiVersion: netintent.dev/v1alpha1\nkind: IntentSet\nmetadata: {name: x}\n';

/** JSON-ish values biased towards the field names and value shapes both front ends read. */
const key = fc.constantFrom(
  'name', 'rules', 'action', 'from', 'to', 'ports', 'pods', 'cidr', 'except', 'matchLabels', 'matchExpressions', 'key', 'operator',
  'values', 'port', 'endPort', 'protocol', 'ingress', 'egress', 'podSelector', 'namespaceSelector', 'ipBlock', 'policyTypes',
  'groups', 'members', 'policies', 'tenants', 'namespaces', 'rateLimits', 'latency', 'loss', 'http', 'kafka', 'dns', 'x',
);
const leaf = fc.oneof(
  fc.constantFrom('allow', 'any', 'tcp/80', 'icmp type 8', '10M', '5ms', '1%', 'In', 'Exists', 'TCP', 'Ingress', 'Egress', '10.0.0.0/8', ''),
  fc.integer({ min: -5, max: 70000 }),
  fc.boolean(),
  fc.constant(null),
);
const { value: jsonish } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(key, tie('value'), { maxKeys: 5 })),
}));

describe('property: the YAML front ends never throw and keep spans inside the file', () => {
  test('arbitrary YAML-ish text', () => {
    fc.assert(fc.property(yamlish, (text) => checkSpans(text)), { numRuns: 400 });
  });

  test('arbitrary text after an IntentSet header', () => {
    fc.assert(fc.property(yamlish, (text) => checkSpans(intentSetHead + text)), { numRuns: 300 });
  });

  test('mutated full fixture', () => {
    fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (edits) => checkSpans(edits.reduce(mutate, full))), { numRuns: 150 });
  });

  test('mutated NetworkPolicy', () => {
    fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (edits) => checkSpans(edits.reduce(mutate, canonicalNetpol))), { numRuns: 300 });
  });

  test('random structures as an IntentSet spec', () => {
    fc.assert(fc.property(jsonish, (spec) => checkSpans(intentSetHead + stringify({ spec }))), { numRuns: 300 });
  });

  test('random structures as a NetworkPolicy spec', () => {
    fc.assert(
      fc.property(jsonish, fc.boolean(), (spec, flow) =>
        checkSpans(stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'n' }, spec }, { collectionStyle: flow ? 'flow' : 'block' })),
      ),
      { numRuns: 300 },
    );
  });
});
