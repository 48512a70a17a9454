import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { burstBytes, ifbName, parseQuantity, podTcCommands, renderTcPlan } from '../../../src/backends/tc/index.js';
import { loadInventory } from '../../../src/inventory/index.js';
import { compileFiles } from '../../../src/sources/index.js';
import { emptyIr, group, pod, podsIn } from '../../fixtures/ir.js';

const inventory = loadInventory('examples/inventory.yaml', readFileSync('examples/inventory.yaml', 'utf8')).inventory;
const ir = compileFiles(['examples/06-bandwidth/dsl']).ir!;

describe('k8s quantities', () => {
  it.each([
    ['10M', 10_000_000],
    ['1G', 1_000_000_000],
    ['500k', 500_000],
    ['1Mi', 1_048_576],
    ['1.5M', 1_500_000],
    ['1e6', 1_000_000],
    ['100', 100],
    ['2000m', 2],
  ])('%s = %d', (text, value) => expect(parseQuantity(text)).toBe(value));
  it.each(['', 'ten', '10 M', '10Mb', 'M', '1.2.3'])('%j is not a quantity', (text) => expect(parseQuantity(text)).toBeUndefined());
});

describe('renderTcPlan', () => {
  it('scenario 6: intent rates, the annotation as a lower bound, the tenant cap for the rest', () => {
    const { plan, diagnostics } = renderTcPlan(ir, inventory, 'node-1');
    expect(diagnostics).toEqual([]);
    const byPod = new Map(plan.pods.map((p) => [p.pod, p]));
    const video = [...byPod.values()].find((p) => p.reasons.includes('rate:video-limit'))!;
    expect(video).toMatchObject({ ingressBps: 10_000_000, egressBps: 20_000_000 });
    const batch = [...byPod.values()].find((p) => p.reasons.includes('rate:flaky-link'));
    if (batch) expect(batch).toMatchObject({ egressBps: 100_000_000, ingressBps: 200_000_000, netem: { latencyUs: 50_000, jitterUs: 5000, lossPercent: 1 } });
    // Only pods of this node, sorted.
    expect(plan.pods.map((p) => p.pod)).toEqual([...plan.pods.map((p) => p.pod)].sort());
    for (const p of plan.pods) expect(inventory.pods.find((x) => `${x.namespace}/${x.name}` === p.pod)!.nodeName).toBe('node-1');
  });

  it('annotation and intent: the lower wins; a bad annotation is a warning, not a rate', () => {
    const t = emptyIr();
    t.groups.push(group('g', [podsIn(['a'])]));
    t.rateLimits.push({ id: 'rate:r', name: 'r', pods: ['group:g'], ingressBps: 5_000_000, egressBps: 5_000_000 });
    const p1 = { ...pod({ ns: 'a', name: 'p1', ip: '10.0.0.1', node: 'n' }), annotations: { 'kubernetes.io/ingress-bandwidth': '1M', 'kubernetes.io/egress-bandwidth': '50M' } };
    const p2 = { ...pod({ ns: 'b', name: 'p2', ip: '10.0.0.2', node: 'n' }), annotations: { 'kubernetes.io/ingress-bandwidth': 'fast' } };
    const inv = { namespaces: [{ name: 'a', labels: {} }, { name: 'b', labels: {} }], pods: [p1, p2], nodes: [], services: [] };
    const { plan, diagnostics } = renderTcPlan(t, inv, 'n');
    expect(plan.pods).toEqual([{ pod: 'a/p1', ips: ['10.0.0.1'], ingressBps: 1_000_000, egressBps: 5_000_000, reasons: ['rate:r', 'kubernetes.io/ingress-bandwidth', 'kubernetes.io/egress-bandwidth'] }]);
    expect(diagnostics.map((d) => d.code)).toEqual(['NI8201']);
  });

  it('a tenant cap bounds every pod of the tenant, limited or not', () => {
    const t = emptyIr();
    t.tenants.push({ id: 'tenant:t', name: 't', namespaces: { kind: 'names', names: ['a'] }, isolation: 'none', pools: [], ingressCap: 3_000_000, networks: [], allowHostAccess: false });
    const inv = { namespaces: [{ name: 'a', labels: {} }], pods: [pod({ ns: 'a', name: 'p', ip: '10.0.0.1', node: 'n' })], nodes: [], services: [] };
    expect(renderTcPlan(t, inv, 'n').plan.pods).toEqual([{ pod: 'a/p', ips: ['10.0.0.1'], ingressBps: 3_000_000, reasons: ['cap of tenant t'] }]);
  });
});

describe('tc commands', () => {
  it('burst: a few ms of traffic, never under two frames, whatever the rate', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 100_000_000_000 }), (bps) => {
        const b = burstBytes(bps);
        expect(b).toBeGreaterThanOrEqual(3028);
        expect(b).toBeLessThanOrEqual(Math.max(3028, Math.ceil(bps / 8 / 100)));
      }),
    );
  });

  it('ingress on the veth root, egress through the ifb; no root HTB line when ours is there (HTB cannot change in place)', () => {
    const s = { pod: 'a/p', ips: ['10.0.0.1'], ingressBps: 10_000_000, egressBps: 100_000_000, reasons: [] };
    const fresh = podTcCommands(s, 'veth1', 'tbf', { hostRootIsOurs: false, ifbRootIsOurs: false });
    const ifb = ifbName('veth1');
    expect(ifb.length).toBeLessThanOrEqual(15);
    expect(fresh).toEqual([
      'qdisc replace dev veth1 root handle 1a1e: htb default 1',
      'class replace dev veth1 parent 1a1e: classid 1a1e:1 htb rate 10000000bit ceil 10000000bit burst 6250b cburst 6250b quantum 1514',
      'qdisc replace dev veth1 parent 1a1e:1 tbf rate 10000000bit burst 6250b latency 3ms',
      `qdisc replace dev ${ifb} root handle 1a1e: htb default 1`,
      `class replace dev ${ifb} parent 1a1e: classid 1a1e:1 htb rate 100000000bit ceil 100000000bit burst 62500b cburst 62500b quantum 1514`,
      `qdisc replace dev ${ifb} parent 1a1e:1 tbf rate 100000000bit burst 62500b latency 3ms`,
      'qdisc replace dev veth1 handle ffff: ingress',
      `filter replace dev veth1 parent ffff: protocol all prio 1 handle 800::800 u32 match u32 0 0 action mirred egress redirect dev ${ifb}`,
    ]);
    const again = podTcCommands(s, 'veth1', 'fq_codel', { hostRootIsOurs: true, ifbRootIsOurs: true });
    expect(again.some((l) => l.includes('root handle'))).toBe(false);
    expect(again).toContain('qdisc replace dev veth1 parent 1a1e:1 fq_codel');
  });

  it('netem rides on the egress class; dropping the ingress rate removes our root', () => {
    const lines = podTcCommands({ pod: 'a/p', ips: ['10.0.0.1'], egressBps: 1_000_000, netem: { latencyUs: 50_000, jitterUs: 5000, lossPercent: 1 }, reasons: [] }, 'veth1', 'fq_codel', { hostRootIsOurs: true, ifbRootIsOurs: true });
    expect(lines[0]).toBe('qdisc del dev veth1 root');
    expect(lines.find((l) => l.includes('netem'))).toMatch(/parent 1a1e:1 netem delay 50000us 5000us loss 1% limit \d+$/);
  });
});
