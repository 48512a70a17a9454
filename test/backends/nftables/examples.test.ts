/** Every scenario example compiles to an nftables script per node that `nft -c` accepts. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileFiles } from '../../../src/sources/index.js';
import { loadInventory } from '../../../src/inventory/index.js';
import { renderNodeRuleset } from '../../../src/backends/nftables/index.js';
import { applyNftScript } from '../../../src/backends/nftables/apply.js';
import { requireTools } from '../../lab/netns.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const inventory = loadInventory('examples/inventory.yaml', readFileSync(`${root}examples/inventory.yaml`, 'utf8')).inventory;
const examples = readdirSync(`${root}examples`).filter((d) => /^\d\d-/.test(d)).sort();

describe('nftables: scenario examples', () => {
  const netns = `nit-${process.pid}-${randomBytes(3).toString('hex')}-check`;
  beforeAll(() => {
    requireTools();
    execFileSync('ip', ['netns', 'add', netns]);
  });
  afterAll(() => {
    execFileSync('ip', ['netns', 'del', netns]);
  });

  for (const example of examples) {
    it(example, async () => {
      const { ir, diagnostics } = compileFiles([`examples/${example}/dsl`], root);
      expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      for (const node of inventory.nodes) {
        const out = renderNodeRuleset(ir!, inventory, node.name);
        // Only L7 clauses are beyond nftables, and they are reported, never dropped silently.
        for (const d of out.diagnostics.filter((x) => x.severity === 'error')) expect(d.code).toBe('NI5001');
        const checked = await applyNftScript(out.script, { netns, args: ['-c'] });
        expect(checked.stderr).toBe('');
        expect(checked.ok).toBe(true);
      }
    });
  }
});
