/**
 * The incremental path against the full rebuild: random pod churn on a small cluster, every
 * step's element update and final model compared with a full build of the new inventory
 * and the diff of every set.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { NodeRulesetState, renderNodeRuleset, renderNodeUpdate } from '../../../src/backends/nftables/index.js';
import { nodeHeader, renderScript } from '../../../src/backends/nftables/model.js';
import { applyChurn, churnArb, churnInventory, churnIrArb } from '../../fixtures/churn.js';
import { conformanceCases } from '../../fixtures/conformance.js';
import type { Ir } from '../../../src/ir/types.js';
import type { Inventory } from '../../../src/inventory/index.js';

describe('incremental updates from pod churn', () => {
  it('give exactly the full rebuild: the same element update and the same model, step after step', () => {
    let fast = 0;
    let steps = 0;
    fc.assert(
      fc.property(fc.oneof(churnIrArb, fc.constant(conformanceCases.find((c) => c.name.startsWith('tenant strict'))!.ir)), fc.array(churnArb, { minLength: 1, maxLength: 8 }), (ir, churns) => {
        let inv = churnInventory();
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
  const inv = churnInventory();
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
