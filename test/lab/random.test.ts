/** Random IRs (fixed seed) compiled, applied and probed: packets agree with the evaluator. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { renderNodeRuleset } from '../../src/backends/nftables/index.js';
import { hasErrors } from '../../src/diagnostics/diagnostic.js';
import { irArb } from '../fixtures/arbitrary.js';
import { e2eInventory } from '../fixtures/ir.js';
import { useLab } from './netns.js';
import { expectAgreement } from './agreement.js';

const inventory = e2eInventory();
const samples = fc.sample(irArb, { seed: 20261129, numRuns: 8 });

describe('lab: random intents and NetworkPolicies on real packets', () => {
  const lab = useLab(inventory, 'n1');

  samples.forEach((ir, i) => {
    it(`random IR #${i} (${ir.rules.length} rules, ${ir.networkPolicies.length} policies)`, async () => {
      const { script, diagnostics } = renderNodeRuleset(ir, inventory, 'n1');
      expect(hasErrors(diagnostics)).toBe(false);
      const applied = await lab().apply(script);
      expect(applied.stderr).toBe('');
      await expectAgreement(lab(), ir, inventory);
    });
  });
});
