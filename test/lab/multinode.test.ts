/**
 * Two nodes: namespace z lives on node n2. Each node gets its own script; connections
 * between the nodes cross both rulesets, and the pair must still agree with the evaluator
 * (pods of the other node carry only their isolation; their own node enforces them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderNodeRuleset } from '../../src/backends/nftables/index.js';
import fc from 'fast-check';
import { conformanceCases } from '../fixtures/conformance.js';
import { irArb } from '../fixtures/arbitrary.js';
import { e2eInventory } from '../fixtures/ir.js';
import { Lab, requireTools } from './netns.js';
import { expectAgreement } from './agreement.js';

const inventory = e2eInventory({ remoteNamespaces: ['z'] });

describe('lab: two nodes, each with its own ruleset', () => {
  let lab: Lab | undefined;
  beforeAll(async () => {
    requireTools();
    lab = await Lab.create(inventory, ['n1', 'n2']);
    expect(await lab.warmUp()).toEqual([]);
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  const random = fc.sample(irArb, { seed: 7, numRuns: 4 }).map((ir, i) => ({ name: `random IR #${i}`, ir }));
  for (const c of [...conformanceCases, ...random]) {
    it(c.name, async () => {
      for (const node of ['n1', 'n2']) {
        const applied = await lab!.apply(renderNodeRuleset(c.ir, inventory, node).script, node);
        expect(applied.stderr).toBe('');
      }
      await expectAgreement(lab!, c.ir, inventory);
    });
  }
});
