/**
 * Incremental updates: when only pods churn (same IR, same chains), the change is a set of
 * element additions and deletions in one transaction; anything else is a full replace.
 */
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import type { Ir } from '../../ir/types.js';
import type { Inventory } from '../../inventory/index.js';
import { NodeRulesetBuilder } from './build.js';
import { FAMILY, nodeHeader, renderScript, sortedChains, sortedSets, TABLE, type NftRuleset, type NftSet } from './model.js';

export interface NodeUpdate {
  /** `elements`: set/map element changes only; `full`: the whole table replaced; `none`: nothing to do. */
  kind: 'elements' | 'full' | 'none';
  script: string;
  diagnostics: Diagnostic[];
  /** The new model: pass it as `previous` next time to skip rebuilding the old one. */
  ruleset: NftRuleset;
}

function shape(ruleset: NftRuleset): string {
  const sets = sortedSets(ruleset).map((s) => JSON.stringify([s.name, s.kind, s.type, s.interval, s.comment]));
  const chains = sortedChains(ruleset).map((c) => JSON.stringify([c.name, c.hook ?? '', c.rules]));
  return [...sets, ...chains].join('\n');
}

/** The key part of an element (maps: before ` : `), which is what `delete element` takes. */
function elementKey(set: NftSet, element: string): string {
  return set.kind === 'map' ? element.slice(0, element.indexOf(' : ')) : element;
}

/** `previous`: the model last applied (from the last update), if the caller kept it. */
export function renderNodeUpdate(prevInventory: Inventory, nextInventory: Inventory, ir: Ir, nodeName: string, previous?: NftRuleset): NodeUpdate {
  const prev = previous ?? new NodeRulesetBuilder(ir, prevInventory, nodeName).build().ruleset;
  const { ruleset: next, diagnostics } = new NodeRulesetBuilder(ir, nextInventory, nodeName).build();
  if (shape(prev) !== shape(next)) return { kind: 'full', script: renderScript(next, nodeHeader(nodeName)), diagnostics, ruleset: next };
  const deletes: string[] = [];
  const adds: string[] = [];
  for (const set of sortedSets(next)) {
    const before = new Set(prev.sets.get(set.name)!.elements);
    const after = new Set(set.elements);
    // A map element whose verdict changes is deleted and re-added in the same transaction.
    const removed = [...before].filter((e) => !after.has(e)).map((e) => elementKey(set, e));
    const added = set.elements.filter((e) => !before.has(e));
    if (removed.length) deletes.push(`delete element ${FAMILY} ${TABLE} ${set.name} { ${removed.join(', ')} }`);
    if (added.length) adds.push(`add element ${FAMILY} ${TABLE} ${set.name} { ${added.join(', ')} }`);
  }
  if (deletes.length + adds.length === 0) return { kind: 'none', script: '', diagnostics, ruleset: next };
  return { kind: 'elements', script: [`#!/usr/sbin/nft -f`, `# netintent element update for node ${nodeName}`, ...deletes, ...adds, ''].join('\n'), diagnostics, ruleset: next };
}
