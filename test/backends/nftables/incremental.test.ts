/**
 * The incremental path against the full rebuild: random pod churn on a small cluster, every
 * step's element update and final model compared with a full build of the new inventory
 * and the diff of every set.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { NodeRulesetState, renderNodeRuleset, renderNodeUpdate } from '../../../src/backends/nftables/index.js';
import { nodeHeader, renderScript } from '../../../src/backends/nftables/model.js';
import { irArb } from '../../fixtures/arbitrary.js';
import { conformanceCases } from '../../fixtures/conformance.js';
import { e2eInventory, group, named, rule, tcp } from '../../fixtures/ir.js';
import type { Ir, IrMember } from '../../../src/ir/types.js';
import type { ContainerPort, Inventory, InventoryPod } from '../../../src/inventory/index.js';

/** `v` is missing from the inventory's namespaces: its pods are in no member, yet have profiles and named ports. */
const NAMESPACES = ['x', 'y', 'z', 'w', 'v'];
const NODES = ['n1', 'n2'];
/** Few addresses, so that pods share them (reused IPs, overlapping secondary networks). */
const IPS = ['10.123.1.1', '10.123.1.2', '10.123.2.1', '10.123.2.2', '10.123.3.1', '10.123.200.2', '10.96.0.10', 'fd00:123::1:1', 'fd00:123::2:1'];
const PORT_SETS: ContainerPort[][] = [
  [],
  [{ name: 'serve-81-tcp', port: 81, protocol: 'tcp' }],
  [{ name: 'serve-81-tcp', port: 8081, protocol: 'tcp' }],
  [
    { name: 'serve-80-tcp', port: 80, protocol: 'tcp' },
    { name: 'serve-81-tcp', port: 81, protocol: 'tcp' },
  ],
];

/**
 * The e2e cluster with a replica of each pod (so that most churn leaves every profile in use),
 * namespace `w` (no tenant) and a service over pods `a` of x (one cluster IP is also x/a's, so
 * pod churn meets fixed addresses).
 */
function baseInventory(): Inventory {
  const inv = e2eInventory({ remoteNamespaces: ['z'] });
  const replicas = inv.pods.map((p) => ({ ...p, name: `${p.name}2`, uid: `${p.uid}2`, ips: p.ips.map((ip) => ip.replace(/(\d+)$/, (n) => String(Number(n) + 10))) }));
  return {
    ...inv,
    pods: [...inv.pods, ...replicas],
    namespaces: [...inv.namespaces, { name: 'w', labels: { ns: 'w', 'kubernetes.io/metadata.name': 'w' } }],
    services: [{ namespace: 'x', name: 'web', clusterIps: ['10.96.0.10', '10.123.1.1'], selector: { pod: 'a' }, ports: [{ port: 80, targetPort: 80, protocol: 'tcp' }] }],
  };
}

/** irArb's intents (tenant t1 = x, y, with complements) plus rules on a service and on a secondary network. */
const churnIrArb: fc.Arbitrary<Ir> = fc.tuple(irArb, fc.boolean()).map(([base, withExtras]) => {
  if (!withExtras) return base;
  const ir: Ir = { ...base, groups: [...base.groups], rules: [...base.rules] };
  const storage: IrMember = { kind: 'pods', scope: { kind: 'all' }, selector: [{ key: 'pod', op: 'In', values: ['b'] }], network: 'storage-net' };
  ir.groups.push(group('svc', [{ kind: 'service', namespace: 'x', name: 'web' }]), group('storage', [storage]));
  ir.rules.push(
    rule({ policy: 'svc', tier: 'baseline', action: 'deny', from: ['group:any'], to: ['group:svc'], ports: [tcp(80)] }),
    rule({ policy: 'storage', tier: 'baseline', action: 'deny', from: ['group:storage'], to: ['group:any'], ports: [tcp(81)] }),
    rule({ policy: 'named', tier: 'baseline', action: 'allow', from: ['group:svc'], to: ['group:storage'], ports: [named('tcp', 'serve-81-tcp')] }),
  );
  return ir;
});

const podArb: fc.Arbitrary<InventoryPod> = fc
  .record({
    ns: fc.constantFrom(...NAMESPACES),
    name: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
    label: fc.constantFrom('a', 'b', 'c'),
    node: fc.option(fc.constantFrom(...NODES), { nil: undefined }),
    ips: fc.subarray(IPS, { minLength: 0, maxLength: 2 }),
    ports: fc.constantFrom(...PORT_SETS),
    network: fc.option(fc.constantFrom(...IPS.slice(0, 4)), { nil: undefined }),
    hostNetwork: fc.boolean({ probability: 0.1 } as fc.BooleanConstraints),
  })
  .map(
    (p): InventoryPod => ({
      namespace: p.ns,
      name: p.name,
      uid: `uid-${p.ns}-${p.name}`,
      labels: { pod: p.label },
      annotations: {},
      ...(p.node ? { nodeName: p.node } : {}),
      ips: [...p.ips].sort(),
      ports: p.ports,
      networks: p.network ? [{ name: 'storage/storage-net', interface: 'net1', ips: [p.network], default: false }] : [],
      hostNetwork: p.hostNetwork,
    }),
  );

type Churn =
  | { op: 'add'; pod: InventoryPod }
  | { op: 'delete'; at: number }
  | { op: 'relabel'; at: number; label: string }
  | { op: 'move'; at: number; node: string | undefined }
  | { op: 'ip'; at: number; ip: string }
  | { op: 'ports'; at: number; ports: ContainerPort[] }
  | { op: 'network'; at: number; ip: string | undefined }
  | { op: 'hostNetwork'; at: number }
  | { op: 'annotate'; at: number };

const churnArb: fc.Arbitrary<Churn> = fc.oneof(
  podArb.map((pod): Churn => ({ op: 'add', pod })),
  fc.nat().map((at): Churn => ({ op: 'delete', at })),
  fc.record({ at: fc.nat(), label: fc.constantFrom('a', 'b', 'c', 'd') }).map((c): Churn => ({ op: 'relabel', ...c })),
  fc.record({ at: fc.nat(), node: fc.option(fc.constantFrom(...NODES), { nil: undefined }) }).map((c): Churn => ({ op: 'move', ...c })),
  fc.record({ at: fc.nat(), ip: fc.constantFrom(...IPS) }).map((c): Churn => ({ op: 'ip', ...c })),
  fc.record({ at: fc.nat(), ports: fc.constantFrom(...PORT_SETS) }).map((c): Churn => ({ op: 'ports', ...c })),
  fc.record({ at: fc.nat(), ip: fc.option(fc.constantFrom(...IPS.slice(0, 4)), { nil: undefined }) }).map((c): Churn => ({ op: 'network', ...c })),
  fc.nat().map((at): Churn => ({ op: 'hostNetwork', at })),
  fc.nat().map((at): Churn => ({ op: 'annotate', at })),
);

/** The next inventory: changed pods are new objects, the others kept as they were (as a watch keeps them). */
function applyChurn(inv: Inventory, churn: Churn): Inventory {
  if (churn.op === 'add') return { ...inv, pods: [...inv.pods, churn.pod] };
  if (inv.pods.length === 0) return inv;
  const at = churn.at % inv.pods.length;
  const pod = inv.pods[at]!;
  const replace = (p: InventoryPod | undefined): Inventory => ({ ...inv, pods: [...inv.pods.slice(0, at), ...(p ? [p] : []), ...inv.pods.slice(at + 1)] });
  switch (churn.op) {
    case 'delete':
      return replace(undefined);
    case 'relabel':
      return replace({ ...pod, labels: { pod: churn.label } });
    case 'move': {
      const { nodeName: _, ...rest } = pod;
      return replace(churn.node ? { ...rest, nodeName: churn.node } : rest);
    }
    case 'ip':
      return replace({ ...pod, ips: [churn.ip] });
    case 'ports':
      return replace({ ...pod, ports: churn.ports });
    case 'network':
      return replace({ ...pod, networks: churn.ip ? [{ name: 'storage/storage-net', interface: 'net1', ips: [churn.ip], default: false }] : [] });
    case 'hostNetwork':
      return replace({ ...pod, hostNetwork: !pod.hostNetwork });
    case 'annotate':
      return replace({ ...pod, annotations: { touched: 'yes' } });
  }
}

describe('incremental updates from pod churn', () => {
  it('give exactly the full rebuild: the same element update and the same model, step after step', () => {
    let fast = 0;
    let steps = 0;
    fc.assert(
      fc.property(fc.oneof(churnIrArb, fc.constant(conformanceCases.find((c) => c.name.startsWith('tenant strict'))!.ir)), fc.array(churnArb, { minLength: 1, maxLength: 8 }), (ir, churns) => {
        let inv = baseInventory();
        let state = NodeRulesetState.build(ir, inv, 'n1');
        for (const churn of churns) {
          const next = applyChurn(inv, churn);
          const reference = renderNodeUpdate(inv, next, ir, 'n1');
          const update = renderNodeUpdate(inv, next, ir, 'n1', state);
          steps++;
          if (state.consumed) fast++;
          expect([update.kind, update.script]).toEqual([reference.kind, reference.script]);
          expect(renderScript(update.ruleset, nodeHeader('n1'))).toBe(renderScript(reference.ruleset, nodeHeader('n1')));
          inv = next;
          state = update.state;
        }
      }),
      { numRuns: 250 },
    );
    // Most steps must take the fast path, or this proves little.
    expect(fast / steps).toBeGreaterThan(0.6);
  });

  const strict = conformanceCases.find((c) => c.name.startsWith('tenant strict'))!.ir;
  const inv = baseInventory();
  const readdress = (i: Inventory, ns: string, name: string, ip: string): Inventory => ({ ...i, pods: i.pods.map((p) => (p.namespace === ns && p.name === name ? { ...p, ips: [ip] } : p)) });
  const expectSameAsRebuild = (prev: Inventory, next: Inventory, state: NodeRulesetState, ir: Ir = strict): void => {
    const update = renderNodeUpdate(prev, next, ir, 'n1', state);
    const reference = renderNodeUpdate(prev, next, ir, 'n1');
    expect([update.kind, update.script]).toEqual([reference.kind, reference.script]);
    expect(renderScript(update.ruleset, nodeHeader('n1'))).toBe(renderNodeRuleset(ir, next, 'n1').script);
  };

  it('goes on from a state whose update was not applied, and from inventories loaded afresh', () => {
    const state = NodeRulesetState.build(strict, inv, 'n1');
    expect(renderNodeUpdate(inv, readdress(inv, 'x', 'a', '10.123.1.9'), strict, 'n1', state).kind).toBe('elements');
    expect(state.consumed).toBe(true);
    // The agent keeps the state it applied last when nft failed, and goes on from it.
    expectSameAsRebuild(inv, readdress(inv, 'y', 'c', '10.123.2.9'), state);
    // Every object new (a file read again): pods paired by name, compared in full.
    const fresh = NodeRulesetState.build(strict, inv, 'n1');
    const reloaded = structuredClone(readdress(inv, 'x', 'b', '10.123.1.9'));
    expectSameAsRebuild(inv, reloaded, fresh);
    expect(fresh.consumed).toBe(true);
    const again = NodeRulesetState.build(strict, inv, 'n1');
    expect(again.podChurn(structuredClone(inv))?.changes).toEqual([]);
  });

  it('leaves to the full rebuild what pods alone do not decide', () => {
    const state = NodeRulesetState.build(strict, inv, 'n1');
    const nsRelabelled: Inventory = { ...inv, namespaces: inv.namespaces.map((n) => (n.name === 'y' ? { ...n, labels: { ...n.labels, ns: 'x' } } : n)) };
    const nodeMoved: Inventory = { ...inv, nodes: inv.nodes.map((n) => (n.name === 'n1' ? { ...n, addresses: ['10.123.0.9'] } : n)) };
    // A pod with named ports no pod had: a profile key the build never made (its chain may still be the same).
    const newPorts: Inventory = { ...inv, pods: inv.pods.map((p) => (p.namespace === 'y' && p.name === 'a' ? { ...p, ports: [] } : p)) };
    // The last local pods of tenant t1 gone: their profiles go with them.
    const lastOfProfile: Inventory = { ...inv, pods: inv.pods.filter((p) => p.namespace !== 'x') };
    const dupNamespaces: Inventory = { ...inv, namespaces: [...inv.namespaces, inv.namespaces[0]!] };
    for (const next of [nsRelabelled, nodeMoved, newPorts, lastOfProfile]) {
      expectSameAsRebuild(inv, next, state);
      expect(state.consumed).toBe(false);
    }
    expect(NodeRulesetState.build(strict, dupNamespaces, 'n1').podChurn(readdress(dupNamespaces, 'x', 'a', '10.123.1.9'))).toBeUndefined();
    expect(renderNodeUpdate(inv, lastOfProfile, strict, 'n1', state).kind).toBe('full');
  });

  it('never takes the fast path with the state of other intents or of another node', () => {
    const state = NodeRulesetState.build(strict, inv, 'n1');
    const next = readdress(inv, 'x', 'a', '10.123.1.9');
    fc.assert(
      fc.property(churnIrArb, (ir) => {
        const update = renderNodeUpdate(inv, next, strict, 'n1', NodeRulesetState.build(ir, inv, 'n1'));
        expect(renderScript(update.ruleset, nodeHeader('n1'))).toBe(renderNodeRuleset(strict, next, 'n1').script);
        expect(renderScript(renderNodeUpdate(inv, next, ir, 'n1', state).ruleset, nodeHeader('n1'))).toBe(renderNodeRuleset(ir, next, 'n1').script);
      }),
      { numRuns: 20 },
    );
    expect(renderScript(renderNodeUpdate(inv, next, strict, 'n2', state).ruleset, nodeHeader('n2'))).toBe(renderNodeRuleset(strict, next, 'n2').script);
  });
});
