/**
 * nftables back end: renders (never applies) the ruleset of one node, in full or as an
 * incremental update. Applying is the edge module `apply.ts`, used by the node agent.
 */
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import type { Ir } from '../../ir/types.js';
import type { Inventory } from '../../inventory/index.js';
import { NodeRulesetBuilder, type NodeRulesetOptions } from './build.js';
import { nodeHeader, renderScript, type NftRuleset } from './model.js';

export { nodeHeader, renderScript, type NftRuleset, type NftSet, type NftChain } from './model.js';

export { diffSetElements, renderElementChanges, renderNodeUpdate, type NodeUpdate } from './update.js';
export { NodeRulesetState, type ElementChange } from './incremental.js';
export type { NodeRulesetOptions } from './build.js';

export function buildNodeRuleset(ir: Ir, inventory: Inventory, nodeName: string, options: NodeRulesetOptions = {}): { ruleset: NftRuleset; diagnostics: Diagnostic[] } {
  return new NodeRulesetBuilder(ir, inventory, nodeName, options).build();
}

/** One self-contained script that `nft -f` applies atomically on node `nodeName`. */
export function renderNodeRuleset(ir: Ir, inventory: Inventory, nodeName: string): { script: string; diagnostics: Diagnostic[] } {
  const { ruleset, diagnostics } = buildNodeRuleset(ir, inventory, nodeName);
  return { script: renderScript(ruleset, nodeHeader(nodeName)), diagnostics };
}
