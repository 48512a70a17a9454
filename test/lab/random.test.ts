/** Random IRs (fixed seed) compiled, applied and probed: packets agree with the evaluator. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { renderNodeRuleset } from '../../src/backends/nftables/index.js';
import { hasErrors } from '../../src/diagnostics/diagnostic.js';
import { irArb } from '../fixtures/arbitrary.js';
import { e2eInventory } from '../fixtures/ir.js';
import { Lab, requireTools } from './netns.js';
import { expectAgreement } from './agreement.js';

const inventory = e2eInventory();
const samples = fc.sample(irArb, { seed: 20261129, numRuns: 8 });

describe('lab: random intents and NetworkPolicies on real packets', () => {
  let lab: Lab | undefined;
  beforeAll(async () => {
    requireTools();
    lab = await Lab.create(inventory, 'n1');
    expect(await lab.warmUp()).toEqual([]);
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  samples.forEach((ir, i) => {
    it(`random IR #${i} (${ir.rules.length} rules, ${ir.networkPolicies.length} policies)`, async () => {
      const { script, diagnostics } = renderNodeRuleset(ir, inventory, 'n1');
      expect(hasErrors(diagnostics)).toBe(false);
      const applied = await lab!.apply(script);
      expect(applied.stderr).toBe('');
      await expectAgreement(lab!, ir, inventory);
    });
  });
});
