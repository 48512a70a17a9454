import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { renderNodeRuleset, renderNodeUpdate } from '../../../src/backends/nftables/index.js';
import { conformanceCases } from '../../fixtures/conformance.js';
import { e2eInventory, emptyIr, group, pod, podsIn, rule, tcp } from '../../fixtures/ir.js';
import { irArb } from '../../fixtures/arbitrary.js';
import type { Ir } from '../../../src/ir/types.js';

function setBlocks(script: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of script.matchAll(/\t(set|map) (\S+) \{\n([\s\S]*?)\n\t\}/g)) out.set(m[2]!, m[3]!);
  return out;
}

describe('renderNodeRuleset', () => {
  const c = conformanceCases.find((x) => x.name.startsWith('ipBlock except'))!;

  it('replaces only its own table, in one transaction', () => {
    const { script } = renderNodeRuleset(c.ir, c.inventory, 'n1');
    expect(script.split('\n').filter((l) => /^(add|delete|table|flush)/.test(l))).toEqual(['add table inet netintent', 'delete table inet netintent', 'table inet netintent {']);
    expect(script).not.toMatch(/flush ruleset/);
    expect(script).toMatch(/ct state established,related accept[^\n]*\n\t\tct state invalid drop/);
  });

  it('keeps pod IPs in hash sets and CIDRs (excepts subtracted) in interval sets', () => {
    const sets = setBlocks(renderNodeRuleset(c.ir, c.inventory, 'n1').script);
    for (const [name, body] of sets) {
      if (/_h[46]$/.test(name)) expect(body).not.toMatch(/flags interval/);
      if (/_r[46]$/.test(name)) expect(body).toMatch(/flags interval/);
    }
    const ranges = [...sets].find(([n, body]) => n.endsWith('_r4') && body.includes('10.123.0.0/23'))!;
    const elements = ranges[1].slice(ranges[1].indexOf('elements'));
    expect(elements).toMatch(/10\.123\.0\.0\/23,\s+10\.123\.3\.0\/24/);
    expect(elements).not.toMatch(/10\.123\.2\.0/);
    expect(ranges[1]).toMatch(/comment "peer ipBlock 10\.123\.0\.0\/16 except 10\.123\.2\.0\/24,10\.123\.200\.0\/24: CIDRs"/);
  });

  it('comments every rule and set, naming the source file:line or the NetworkPolicy, within 128 bytes', () => {
    const ir = emptyIr();
    ir.groups.push(group('xa', [podsIn(['x'], { pod: 'a' })]));
    ir.rules.push(rule({ policy: 'p'.repeat(200), tier: 'admin', action: 'deny', from: ['group:any'], to: ['group:xa'], ports: [tcp(80)], log: true }));
    ir.sources[ir.rules[0]!.id] = [{ file: 'policies/web.intent', line: 12, col: 1, endLine: 12, endCol: 40 }];
    const { script } = renderNodeRuleset(ir, e2eInventory(), 'n1');
    const ruleLines = script.split('\n').filter((l) => l.startsWith('\t\t') && !/^\t\t(type|flags|comment|elements|\t)/.test(l));
    for (const line of ruleLines) expect(line).toMatch(/comment "[^"]*"$/);
    for (const m of script.matchAll(/comment "([^"]*)"/g)) expect(Buffer.byteLength(m[1]!)).toBeLessThanOrEqual(128);
    expect(script).toMatch(/limit rate 10\/second log prefix "ni:p{15}~[0-9a-f]{8} "/);
    const np = renderNodeRuleset(c.ir, c.inventory, 'n1').script;
    expect(np).toMatch(/comment "np x\/block ingress: ipBlock 10\.123\.0\.0\/16 except/);
  });

  it('distinguishes reject from deny', () => {
    const rej = conformanceCases.find((x) => x.name === 'reject vs drop')!;
    const { script } = renderNodeRuleset(rej.ir, rej.inventory, 'n1');
    expect(script).toMatch(/tcp dport 80 reject with icmpx admin-prohibited comment "rule:guard\/0"/);
    expect(script).toMatch(/tcp dport 81 drop comment "rule:guard\/1"/);
  });

  it('renders ICMP type/code per family', () => {
    const ir = emptyIr();
    ir.rules.push(rule({ policy: 'ping', action: 'deny', from: ['group:any'], to: ['group:any'], ports: [{ protocol: 'icmp', icmpType: 8, icmpCode: 0 }, { protocol: 'icmpv6', icmpType: 128 }] }));
    const { script } = renderNodeRuleset(ir, e2eInventory(), 'n1');
    expect(script).toMatch(/\n\t\ticmp type 8 icmp code 0 drop/);
    expect(script).toMatch(/\n\t\ticmpv6 type 128 drop/);
    expect(script).not.toMatch(/icmpv6 type 128[^\n]*\n[^\n]*icmp type 8/);
  });

  it('uses content-derived names: an unrelated change leaves the other names alone', () => {
    const base = renderNodeRuleset(c.ir, c.inventory, 'n1').script;
    const more: Ir = { ...c.ir, groups: [group('xb', [podsIn(['x'], { pod: 'b' })])], rules: [rule({ policy: 'extra', tier: 'baseline', action: 'deny', from: ['group:xb'], to: ['group:xb'] })] };
    const changed = renderNodeRuleset(more, c.inventory, 'n1').script;
    const names = (s: string): Set<string> => new Set([...s.matchAll(/\t(?:set|map|chain) (\S+) \{/g)].map((m) => m[1]!));
    const npNames = [...names(base)].filter((n) => n.startsWith('np'));
    for (const n of npNames) expect(names(changed).has(n)).toBe(true);
  });

  it('is deterministic whatever the input order', () => {
    fc.assert(
      fc.property(irArb, fc.integer(), (ir, seed) => {
        const inv = e2eInventory();
        const rev = <T,>(a: T[]): T[] => (seed % 2 ? [...a].reverse() : [...a]);
        const tiers = ['admin', 'tenant', 'application', 'baseline'] as const;
        const shuffledRules = rev(tiers.map((t) => ir.rules.filter((r) => r.tier === t))).flat();
        const permuted: Ir = { ...ir, groups: rev(ir.groups), networkPolicies: rev(ir.networkPolicies), rules: shuffledRules };
        const a = renderNodeRuleset(ir, inv, 'n1').script;
        const b = renderNodeRuleset(permuted, { ...inv, pods: rev(inv.pods), namespaces: rev(inv.namespaces) }, 'n1').script;
        expect(b).toBe(a);
      }),
      { numRuns: 300 },
    );
  });

  it('reports what nftables cannot enforce', () => {
    const ir = emptyIr();
    ir.groups.push(group('web', [{ kind: 'fqdn', pattern: '*.example.com' }]));
    ir.rules.push({ ...rule({ policy: 'l7', action: 'allow', from: ['group:any'], to: ['group:web'] }), l7: { http: [{ method: 'GET', headers: [] }], kafka: [], dns: [] } });
    const { diagnostics } = renderNodeRuleset(ir, e2eInventory(), 'n1');
    expect(diagnostics.map((d) => `${d.code} ${d.severity}`)).toEqual(['NI5001 error', 'NI5020 warning']);
    expect(renderNodeRuleset(emptyIr(), e2eInventory(), 'nope').diagnostics.map((d) => d.code)).toEqual(['NI6003']);
  });
});

describe('renderNodeUpdate', () => {
  const c = conformanceCases.find((x) => x.name.startsWith('tenant strict'))!;

  it('turns pod churn into element additions and deletions only', () => {
    const next = { ...c.inventory, pods: [...c.inventory.pods.filter((p) => !(p.namespace === 'y' && p.name === 'c')), pod({ ns: 'x', name: 'd', ip: '10.123.1.4', labels: { pod: 'a' }, node: 'n1' })] };
    const update = renderNodeUpdate(c.inventory, next, c.ir, 'n1');
    expect(update.kind).toBe('elements');
    expect(update.script).not.toMatch(/table inet netintent \{|add chain|add rule/);
    expect(update.script).toMatch(/delete element inet netintent pod_egress4 \{ 10\.123\.2\.3 \}/);
    expect(update.script).toMatch(/add element inet netintent pod_ingress4 \{ 10\.123\.1\.4 : goto p_[0-9a-f]{10} \}/);
    // The caller may keep the model it applied instead of rebuilding the old one.
    const previous = renderNodeUpdate(c.inventory, c.inventory, c.ir, 'n1').state;
    expect(renderNodeUpdate(c.inventory, next, c.ir, 'n1', previous).script).toBe(update.script);
  });

  it('falls back to a full replace when the rules change shape, and to nothing when nothing changed', () => {
    expect(renderNodeUpdate(c.inventory, c.inventory, c.ir, 'n1').kind).toBe('none');
    const next = { ...c.inventory, pods: [...c.inventory.pods, pod({ ns: 'x', name: 'e', ip: '10.123.1.9', labels: { pod: 'e' }, node: 'n1', ports: [{ name: 'serve-80-tcp', port: 8080, protocol: 'tcp' }] })] };
    const named = conformanceCases.find((x) => x.name === 'named port resolved on the destination')!;
    const update = renderNodeUpdate(c.inventory, next, { ...named.ir, networkPolicies: [{ ...named.ir.networkPolicies[0]!, podSelector: [] }] }, 'n1');
    expect(update.kind).toBe('full');
    expect(update.script).toMatch(/^add table inet netintent$/m);
  });
});
