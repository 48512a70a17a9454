import { describe, expect, test } from 'vitest';
import { intentSet, parse, where } from './helpers.js';

/** Each bad input: the diagnostics as code@line:col, and a fragment of the first message. */
const cases: [string, string, string[], string][] = [
  [
    'unknown field, with a suggestion, at the key',
    intentSet('  policies:\n    - name: p\n      rules:\n        - action: allow\n          from: any\n          to: any\n          prots: [tcp/80]\n'),
    ['NI1102@12:11'],
    'unknown field "prots" in rule spec.policies[0].rules[0] (did you mean "ports"?)',
  ],
  [
    'wrong type',
    intentSet('  policies:\n    - name: p\n      priority: high\n      rules: []\n'),
    ['NI1102@8:17'],
    'spec.policies[0].priority must be an integer, not the string "high"',
  ],
  [
    'bad enum, with a suggestion',
    intentSet('  policies:\n    - name: p\n      tier: admn\n      rules: []\n'),
    ['NI1102@8:13'],
    'must be one of admin, tenant, application, baseline, not "admn" (did you mean "admin"?)',
  ],
  ['YAML syntax error', intentSet('  groups:\n    - name: [a\n  policies: x\n'), ['NI1101@8:3'], 'YAML syntax error'],
  ['duplicate key', intentSet('  groups: []\n  groups: []\n'), ['NI1101@7:3'], 'Map keys must be unique'],
  [
    'bad selector operator',
    intentSet('  groups:\n    - name: g\n      members:\n        - pods:\n            matchExpressions: [{key: a, operator: Equals, values: [x]}]\n'),
    ['NI1102@10:51'],
    'operator must be one of In, NotIn, Exists, DoesNotExist, not "Equals"',
  ],
  [
    'Exists with values',
    intentSet('  groups:\n    - name: g\n      members:\n        - pods:\n            matchExpressions: [{key: a, operator: Exists, values: [x]}]\n'),
    ['NI1202@10:67'],
    'operator Exists must not have values',
  ],
  [
    'missing required field: at the parent map',
    intentSet('  policies:\n    - name: p\n      rules:\n        - from: any\n          to: any\n'),
    ['NI1102@9:11'],
    'missing field "action" in rule spec.policies[0].rules[0]',
  ],
  [
    'member of two kinds',
    intentSet('  groups:\n    - name: g\n      members:\n        - cidr: 10.0.0.0/8\n          fqdn: x.com\n'),
    ['NI1102@9:11'],
    'may have only one of "pods", "cidr", "fqdn", "service", "group", but has "cidr", "fqdn"',
  ],
  [
    'member of no kind',
    intentSet('  groups:\n    - name: g\n      members:\n        - cluster: east\n'),
    ['NI1102@9:11'],
    'needs one of "pods", "cidr", "fqdn", "service", "group"',
  ],
  [
    'bad port string and misspelt port field',
    intentSet('  policies:\n    - name: p\n      rules:\n        - {action: allow, from: any, to: any, ports: [tcp:80, {protocl: tcp}]}\n'),
    ['NI1102@9:55', 'NI1102@9:64'],
    '"tcp:80" is not valid; write it like "tcp/80"',
  ],
  [
    'peers of the wrong type',
    intentSet('  policies:\n    - name: p\n      rules:\n        - {action: allow, from: 12, to: [web, 13]}\n'),
    ['NI1102@9:33', 'NI1102@9:47'],
    'from must be a string, a map or a list, not the number 12',
  ],
  [
    'field that needs another',
    intentSet('  groups:\n    - name: g\n      members:\n        - {fqdn: a.com, except: [10.0.0.0/8]}\n'),
    ['NI1102@9:25'],
    'field "except" in member spec.groups[0].members[0] needs field "cidr"',
  ],
  [
    'tenant without namespaces',
    intentSet('  tenants:\n    - name: t\n      isolation: strict\n'),
    ['NI1102@7:7'],
    'tenant spec.tenants[0] needs one of "namespaces", "namespaceSelector"',
  ],
  [
    'misspelt top-level field',
    'apiVersion: netintent.dev/v1alpha1\nkind: IntentSet\nmetadata: {name: x}\nspce: {}\n',
    ['NI1102@1:1', 'NI1102@4:1'],
    'missing field "spec" in the document',
  ],
];

describe('error spans', () => {
  test.each(cases)('%s', (_, text, expected, fragment) => {
    const { diagnostics, decls } = parse(text);
    expect(where(diagnostics)).toEqual(expected);
    expect(diagnostics[0]!.message).toContain(fragment);
    // A document that breaks the schema or the YAML syntax yields no declarations.
    if (diagnostics[0]!.code !== 'NI1202') expect(decls).toEqual([]);
  });

  test('all errors of a document are reported once each', () => {
    const { diagnostics } = parse(
      intentSet('  policies:\n    - name: p\n      tier: x\n      priority: -1\n      rules:\n        - {action: permit, from: any, to: any, lg: true}\n'),
    );
    expect(where(diagnostics)).toEqual(['NI1102@8:13', 'NI1102@9:17', 'NI1102@11:20', 'NI1102@11:48']);
    expect(new Set(diagnostics.map((d) => d.message)).size).toBe(diagnostics.length);
  });

  test('a bad document does not hide a good one', () => {
    const { diagnostics, decls } = parse(`${intentSet('  groups: [{name: g, members: [{group: h}]}]\n')}---\n${intentSet('  groups: 7\n')}`);
    expect(where(diagnostics)).toEqual(['NI1102@13:11']);
    expect(decls.map((d) => d.kind)).toEqual(['group']);
  });
});
