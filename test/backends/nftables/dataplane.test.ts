/**
 * Incremental updates in the kernel: random pod churn applied as element updates with real
 * `nft -f` in a scratch network namespace leaves the same table as the full script of the
 * final inventory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { NodeRulesetState, renderNodeRuleset, renderNodeUpdate } from '../../../src/backends/nftables/index.js';
import { nodeHeader, renderScript } from '../../../src/backends/nftables/model.js';
import { applyNftScript, listNftTable } from '../../../src/backends/nftables/apply.js';
import { everyPodAddress } from '../../../src/resolve/index.js';
import { applyChurn, churnArb, churnInventory, churnIrArb } from '../../fixtures/churn.js';
import { conformanceCases } from '../../fixtures/conformance.js';
import type { Inventory } from '../../../src/inventory/index.js';
import { deleteNamespaces, requireTools } from '../../lab/netns.js';

/** The listing with each set's elements sorted: a hash set lists in bucket order, which depends on its history. */
function normalized(listing: string): string {
  return listing.replace(/elements = \{([^}]*)\}/g, (_, body: string) => `elements = { ${body.split(',').map((e) => e.trim()).sort().join(', ')} }`);
}

/** nft refuses two elements with one key: the generated churn may give two pods one address, a real cluster does not. */
function addressesUnique(inv: Inventory): boolean {
  const all = inv.pods.filter((p) => !p.hostNetwork).flatMap(everyPodAddress);
  return new Set(all).size === all.length;
}

describe('incremental updates in the kernel', () => {
  const netns = `nit-${process.pid}-${randomBytes(3).toString('hex')}-incr`;
  beforeAll(() => {
    requireTools();
    execFileSync('ip', ['netns', 'add', netns]);
  });
  afterAll(() => deleteNamespaces([netns]));

  const apply = async (script: string): Promise<void> => {
    const r = await applyNftScript(script, { netns });
    expect(r.stderr).toBe('');
    expect(r.ok).toBe(true);
  };
  const listing = async (): Promise<string> => normalized((await listNftTable({ netns })).stdout);

  it('element updates of random pod churn leave the table the full script of the final inventory gives', async () => {
    const strict = conformanceCases.find((c) => c.name.startsWith('tenant strict'))!.ir;
    let elementUpdates = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(churnIrArb, fc.constant(strict)), fc.array(churnArb, { minLength: 1, maxLength: 5 }), async (ir, churns) => {
        const steps = [churnInventory()];
        for (const churn of churns) steps.push(applyChurn(steps[steps.length - 1]!, churn));
        fc.pre(steps.every(addressesUnique));
        let state = NodeRulesetState.build(ir, steps[0]!, 'n1');
        await apply(renderScript(state.ruleset, nodeHeader('n1')));
        for (let k = 1; k < steps.length; k++) {
          const update = renderNodeUpdate(steps[k - 1]!, steps[k]!, ir, 'n1', state);
          if (update.kind !== 'none') await apply(update.script);
          if (update.kind === 'elements') elementUpdates++;
          state = update.state;
        }
        const incremental = await listing();
        await apply(renderNodeRuleset(ir, steps[steps.length - 1]!, 'n1').script);
        expect(incremental).toBe(await listing());
      }),
      { numRuns: 40 },
    );
    expect(elementUpdates).toBeGreaterThan(20);
  });
});
