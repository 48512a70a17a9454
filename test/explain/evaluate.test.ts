import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { evaluate } from '../../src/explain/index.js';
import { conformanceCases, probeConnection } from '../fixtures/conformance.js';
import { e2eInventory, e2eIp, emptyIr, group, podsIn, rule, tcp } from '../fixtures/ir.js';
import { connectionArb, irArb } from '../fixtures/arbitrary.js';
import type { Ir } from '../../src/ir/types.js';

describe('evaluate: conformance cases', () => {
  for (const c of conformanceCases) {
    it(c.name, () => {
      const got = c.probes.map((p) => `${p.text.replace(/ \w+$/, '')} ${evaluate(c.ir, c.inventory, probeConnection(c.inventory, p)).verdict}`);
      expect(got).toEqual(c.probes.map((p) => p.text));
    });
  }
});

describe('evaluate: details', () => {
  const inv = e2eInventory();
  const ya = e2eIp(inv, 'y/a');
  const xa = e2eIp(inv, 'x/a');

  it('names the deciding rule with its source in the chain', () => {
    const ir = emptyIr();
    ir.groups.push(group('xa', [podsIn(['x'], { pod: 'a' })]));
    ir.rules.push(rule({ policy: 'p', tier: 'admin', action: 'deny', from: ['group:any'], to: ['group:xa'], ports: [tcp(80)] }));
    ir.sources['rule:p/0'] = [{ file: 'a.intent', line: 7, col: 3, endLine: 7, endCol: 20 }];
    const r = evaluate(ir, inv, { src: ya, dst: xa, protocol: 'tcp', port: 80 });
    expect(r.verdict).toBe('deny');
    expect(r.chain).toEqual([{ tier: 'admin', id: 'rule:p/0', action: 'deny', source: 'a.intent:7' }]);
    expect(r.egress).toEqual({ verdict: 'deny', by: 'admin', id: 'rule:p/0' });
  });

  it('treats fqdn members as no match and says so', () => {
    const ir = emptyIr();
    ir.groups.push(group('web', [{ kind: 'fqdn', pattern: '*.example.com' }]));
    ir.rules.push(rule({ policy: 'p', action: 'deny', from: ['group:any'], to: ['group:web'] }));
    const r = evaluate(ir, inv, { src: ya, dst: xa, protocol: 'tcp', port: 80 });
    expect(r.verdict).toBe('allow');
    expect(r.chain.some((s) => s.action === 'undecidable' && s.note?.includes('*.example.com'))).toBe(true);
  });

  it('matches services by cluster IP and by the pods their selector picks', () => {
    const inventory = e2eInventory();
    inventory.services.push({ namespace: 'x', name: 'web', clusterIps: ['10.96.0.10'], selector: { pod: 'a' }, ports: [] });
    const ir = emptyIr();
    ir.groups.push(group('svc', [{ kind: 'service', namespace: 'x', name: 'web' }]));
    ir.rules.push(rule({ policy: 'p', action: 'deny', from: ['group:any'], to: ['group:svc'] }));
    expect(evaluate(ir, inventory, { src: ya, dst: '10.96.0.10', protocol: 'tcp', port: 80 }).verdict).toBe('deny');
    expect(evaluate(ir, inventory, { src: ya, dst: xa, protocol: 'tcp', port: 80 }).verdict).toBe('deny');
    expect(evaluate(ir, inventory, { src: ya, dst: e2eIp(inventory, 'x/b'), protocol: 'tcp', port: 80 }).verdict).toBe('allow');
  });

  it('matches secondary-network IPs only for members naming the network', () => {
    const inventory = e2eInventory();
    inventory.pods.find((p) => p.namespace === 'x' && p.name === 'a')!.networks.push({ name: 'x/storage', ips: ['192.168.5.1'], default: false });
    const ir = emptyIr();
    ir.groups.push(group('st', [{ kind: 'pods', scope: { kind: 'all' }, selector: [], network: 'storage' }]));
    ir.rules.push(rule({ policy: 'p', action: 'deny', from: ['group:any'], to: ['group:st'] }));
    expect(evaluate(ir, inventory, { src: ya, dst: '192.168.5.1', protocol: 'tcp', port: 80 }).verdict).toBe('deny');
    expect(evaluate(ir, inventory, { src: ya, dst: xa, protocol: 'tcp', port: 80 }).verdict).toBe('allow');
    // The pod's own node reaches it on its secondary network too.
    expect(evaluate(ir, inventory, { src: '10.123.0.1', dst: '192.168.5.1', protocol: 'tcp', port: 80 }).verdict).toBe('allow');
  });

  it('matches ICMP type and code', () => {
    const ir = emptyIr();
    ir.rules.push(rule({ policy: 'p', action: 'reject', from: ['group:any'], to: ['group:any'], ports: [{ protocol: 'icmp', icmpType: 8 }] }));
    expect(evaluate(ir, inv, { src: ya, dst: xa, protocol: 'icmp', icmpType: 8, icmpCode: 0 }).verdict).toBe('reject');
    expect(evaluate(ir, inv, { src: ya, dst: xa, protocol: 'icmp', icmpType: 13, icmpCode: 0 }).verdict).toBe('allow');
  });

  it('drops ICMP messages that cannot open a connection, as connection tracking does, whatever the rules', () => {
    const ir = emptyIr();
    ir.rules.push(rule({ policy: 'p', action: 'allow', from: ['group:any'], to: ['group:any'], ports: [{ protocol: 'icmp', icmpType: 0 }] }));
    const reply = evaluate(ir, inv, { src: ya, dst: xa, protocol: 'icmp', icmpType: 0, icmpCode: 0 });
    expect(reply).toMatchObject({ verdict: 'deny', egress: { by: 'default', id: 'conntrack:invalid' } });
    expect(reply.chain[0]!.note).toMatch(/never opens a connection/);
    expect(evaluate(ir, inv, { src: ya, dst: xa, protocol: 'icmp', icmpType: 3, icmpCode: 1 }).verdict).toBe('deny');
    // Neighbour discovery is not tracked: rules see it (here: nothing matches, allowed).
    expect(evaluate(ir, inv, { src: ya, dst: xa, protocol: 'icmpv6', icmpType: 135 }).verdict).toBe('allow');
    // The pod's own node is let in before any of this.
    expect(evaluate(ir, inv, { src: '10.123.0.1', dst: xa, protocol: 'icmp', icmpType: 0 }).verdict).toBe('allow');
  });

  it('always lets the pod\'s own node in', () => {
    const ir = emptyIr();
    ir.rules.push(rule({ policy: 'p', tier: 'admin', action: 'deny', from: ['group:any'], to: ['group:any'] }));
    expect(evaluate(ir, inv, { src: '10.123.0.1', dst: xa, protocol: 'tcp', port: 80 }).verdict).toBe('allow');
    expect(evaluate(ir, inv, { src: '10.123.0.2', dst: xa, protocol: 'tcp', port: 80 }).verdict).toBe('deny');
  });
});

function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('evaluate: properties', () => {
  const inv = e2eInventory();
  const conn = connectionArb(inv);

  it('an allow rule appended to the baseline tier never turns an allow into a deny', () => {
    fc.assert(
      fc.property(irArb, conn, fc.nat(4), fc.nat(4), (ir, c, from, to) => {
        const before = evaluate(ir, inv, c).verdict;
        const gid = (n: number): string => ir.groups[n]?.id ?? 'group:any';
        const more: Ir = { ...ir, rules: [...ir.rules, rule({ policy: 'zz-extra', tier: 'baseline', action: 'allow', from: [gid(from)], to: [gid(to)] })] };
        if (before === 'allow') expect(evaluate(more, inv, c).verdict).toBe('allow');
      }),
      { numRuns: 300 },
    );
  });

  it('input order (groups, policies, tiers interleaved, inventory lists) never changes verdicts', () => {
    fc.assert(
      fc.property(irArb, conn, fc.integer({ min: 1, max: 1 << 30 }), (ir, c, seed) => {
        // Keep each tier's own order (it is meaningful); shuffle everything else.
        const tiers = ['admin', 'tenant', 'application', 'baseline'] as const;
        const byTier = tiers.map((t) => ir.rules.filter((r) => r.tier === t));
        const interleaved: typeof ir.rules = [];
        const order = shuffle(byTier.flatMap((rules, t) => rules.map(() => t)), seed);
        const cursor = [0, 0, 0, 0];
        for (const t of order) interleaved.push(byTier[t]![cursor[t]!++]!);
        const permuted: Ir = { ...ir, rules: interleaved, groups: shuffle(ir.groups, seed + 1), networkPolicies: shuffle(ir.networkPolicies, seed + 2) };
        const permutedInv = { ...inv, pods: shuffle(inv.pods, seed + 3), namespaces: shuffle(inv.namespaces, seed + 4) };
        expect(evaluate(permuted, permutedInv, c).verdict).toBe(evaluate(ir, inv, c).verdict);
      }),
      { numRuns: 300 },
    );
  });

  it('an admin `deny any -> any` first denies everything but node-to-own-pod traffic', () => {
    fc.assert(
      fc.property(irArb, conn, (ir, c) => {
        const denyAll = rule({ policy: '0-deny-all', tier: 'admin', priority: 0, action: 'deny', from: ['group:any'], to: ['group:any'] });
        const r = evaluate({ ...ir, rules: [denyAll, ...ir.rules] }, inv, c);
        const fromOwnNode = c.src === '10.123.0.1' && inv.pods.some((p) => p.ips.includes(c.dst));
        expect(r.verdict).toBe(fromOwnNode ? 'allow' : 'deny');
      }),
      { numRuns: 200 },
    );
  });

  it('reject only comes from a reject rule', () => {
    fc.assert(
      fc.property(irArb, conn, (ir, c) => {
        const r = evaluate(ir, inv, c);
        if (r.verdict === 'reject') expect(ir.rules.find((x) => x.id === r.egress.id)?.action).toBe('reject');
      }),
      { numRuns: 200 },
    );
  });
});
