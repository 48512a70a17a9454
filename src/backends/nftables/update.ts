/**
 * Incremental updates: when only pods churn (same IR, same chains), the change is a set of
 * element additions and deletions in one transaction; anything else is a full replace.
 * The fast path (NodeRulesetState.podChurn) finds them from the changed pods alone; a full
 * rebuild and a diff of every set is the fallback, and both give the same update. The L7
 * back end diffs its table the same way (diffSetElements).
 */
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import type { Ir } from '../../ir/types.js';
import type { Inventory } from '../../inventory/index.js';
import { NodeRulesetBuilder } from './build.js';
import { NodeRulesetState, type ElementChange } from './incremental.js';
import { FAMILY, nodeHeader, renderScript, sortedChains, sortedSets, TABLE, type NftRuleset, type NftSet } from './model.js';

export interface NodeUpdate {
  /** `elements`: set/map element changes only; `full`: the whole table replaced; `none`: nothing to do. */
  kind: 'elements' | 'full' | 'none';
  script: string;
  diagnostics: Diagnostic[];
  /** The new model. */
  ruleset: NftRuleset;
  /** The new model with what the fast path needs: pass it as `previous` next time. */
  state: NodeRulesetState;
}

/** Everything of a model but its set elements. */
function shape(ruleset: NftRuleset): string {
  const sets = sortedSets(ruleset).map((s) => JSON.stringify([s.name, s.kind, s.type, s.interval, s.timeout ?? '', s.comment]));
  const chains = sortedChains(ruleset).map((c) => JSON.stringify([c.name, c.hook ?? '', c.rules]));
  return [...sets, ...chains].join('\n');
}

/** The key part of an element (maps: before ` : `), which is what `delete element` takes. */
function elementKey(set: NftSet, element: string): string {
  return set.kind === 'map' ? element.slice(0, element.indexOf(' : ')) : element;
}

/**
 * The changes as one transaction ('' when there are none): every deletion first, so a map
 * element whose verdict changes is deleted and re-added.
 */
export function renderElementChanges(nodeName: string, changes: readonly ElementChange[]): string {
  const deletes = changes.filter((c) => c.removed.length).map((c) => `delete element ${FAMILY} ${TABLE} ${c.set.name} { ${c.removed.map((e) => elementKey(c.set, e)).join(', ')} }`);
  const adds = changes.filter((c) => c.added.length).map((c) => `add element ${FAMILY} ${TABLE} ${c.set.name} { ${c.added.join(', ')} }`);
  if (deletes.length + adds.length === 0) return '';
  return [`#!/usr/sbin/nft -f`, `# netintent element update for node ${nodeName}`, ...deletes, ...adds, ''].join('\n');
}

/**
 * The element changes that take model `prev` to model `next`; undefined when they differ in
 * more than set elements (a set's type, flags or comment, a chain), i.e. need a replace.
 */
export function diffSetElements(prev: NftRuleset, next: NftRuleset): ElementChange[] | undefined {
  if (shape(prev) !== shape(next)) return undefined;
  const changes: ElementChange[] = [];
  for (const set of sortedSets(next)) {
    const old = prev.sets.get(set.name)!.elements;
    const before = new Set(old);
    const after = new Set(set.elements);
    const removed = old.filter((e) => !after.has(e));
    const added = set.elements.filter((e) => !before.has(e));
    if (removed.length + added.length > 0) changes.push({ set, removed, added });
  }
  return changes;
}

function elementUpdate(nodeName: string, changes: readonly ElementChange[], state: NodeRulesetState): NodeUpdate {
  const script = renderElementChanges(nodeName, changes);
  return { kind: script ? 'elements' : 'none', script, diagnostics: state.diagnostics, ruleset: state.ruleset, state };
}

/**
 * `previous`: the state of the last update (or NodeRulesetState.build), i.e. the model last
 * applied. The fast path needs it to be the state of `prevInventory` under this same `ir`
 * object; otherwise its model is the old side of a full diff. A state an update already went
 * on from (consumed: the caller did not apply that update) holds the newer model, so the old
 * side is then rebuilt from `prevInventory`.
 */
export function renderNodeUpdate(prevInventory: Inventory, nextInventory: Inventory, ir: Ir, nodeName: string, previous?: NodeRulesetState): NodeUpdate {
  const applied = previous?.consumed === false ? previous : undefined;
  const churn = applied && applied.ir === ir && applied.nodeName === nodeName && applied.inventory === prevInventory ? applied.podChurn(nextInventory) : undefined;
  if (churn) return elementUpdate(nodeName, churn.changes, churn.state);

  const prev = applied?.ruleset ?? new NodeRulesetBuilder(ir, prevInventory, nodeName).build().ruleset;
  const state = NodeRulesetState.build(ir, nextInventory, nodeName);
  const changes = diffSetElements(prev, state.ruleset);
  if (!changes) return { kind: 'full', script: renderScript(state.ruleset, nodeHeader(nodeName)), diagnostics: state.diagnostics, ruleset: state.ruleset, state };
  return elementUpdate(nodeName, changes, state);
}
