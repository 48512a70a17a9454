/**
 * Pod churn as element changes, without rebuilding the node's model. A full build records
 * what fills each set that follows the pods (SetSource) and which chain each local pod
 * address was sent to. When only pods change (same intents, namespaces, nodes, services),
 * the elements of each address of a changed pod are computed twice, from the pods holding
 * that address before and after, and their difference is the update. The elements of an
 * address depend on the pods holding it alone, so the cost follows the changed pods and the
 * number of distinct rule sides; the cluster's size enters only through one pass of identity
 * comparisons over the pod list (diffPods).
 *
 * Whatever would change the chains (a pod needing a profile or allow-list no pod had, the
 * last pod of one gone) is left to the full rebuild: `podChurn` returns undefined.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import { familyOf, ipToBigInt, type Family } from '../../ir/address.js';
import type { Ir, IrMember, IrNetworkPolicy, IrRule } from '../../ir/types.js';
import { diffPods, sameApartFromPods, type Inventory, type InventoryPod } from '../../inventory/index.js';
import { everyPodAddress, PodMembership } from '../../resolve/index.js';
import { allowListKey, NodeRulesetBuilder, profileKey, type Direction, type SetSource, type SideParts } from './build.js';
import { applyElementEdits, planElementEdits, sortElements, type ElementEdit, type NftRuleset, type NftSet } from './model.js';

/** Element changes of one set, each list sorted as the set's elements are. */
export interface ElementChange {
  set: NftSet;
  removed: string[];
  added: string[];
}

/** Pods (not hostNetwork: their IPs are the node's) by each of their addresses, for the inventory `reflects`. */
class PodsByAddress {
  private readonly byAddress = new Map<string, InventoryPod | InventoryPod[]>();

  constructor(public reflects: Inventory) {
    for (const pod of reflects.pods) this.add(pod);
  }

  at(ip: string): readonly InventoryPod[] {
    const held = this.byAddress.get(ip);
    return held === undefined ? [] : Array.isArray(held) ? held : [held];
  }

  add(pod: InventoryPod): void {
    if (pod.hostNetwork) return;
    for (const ip of everyPodAddress(pod)) {
      const held = this.byAddress.get(ip);
      this.byAddress.set(ip, held === undefined ? pod : Array.isArray(held) ? [...held, pod] : [held, pod]);
    }
  }

  /** Removes the pod, or the equal one it stands for (diffPods pairs pods by content, not identity). */
  remove(pod: InventoryPod): void {
    if (pod.hostNetwork) return;
    for (const ip of everyPodAddress(pod)) {
      const held = this.at(ip);
      let k = held.indexOf(pod);
      if (k < 0) k = held.findIndex((p) => isDeepStrictEqual(p, pod));
      if (k < 0) continue;
      const rest = held.filter((_, n) => n !== k);
      if (rest.length === 0) this.byAddress.delete(ip);
      else this.byAddress.set(ip, rest.length === 1 ? rest[0]! : rest);
    }
  }
}

/** What one full build recorded, shared by the states updated from it. */
interface BuildRecord {
  nodeName: string;
  membership: PodMembership;
  rules: readonly IrRule[];
  /** Distinct rule sides, and for each the rules (ascending indexes into `rules`) whose `from` (egress) or `to` (ingress) it is. */
  sides: readonly SideParts[];
  sideRules: Record<Direction, readonly Int32Array[]>;
  /** Policies of each namespace, by id (the order the builder lists them in). */
  policiesByNamespace: ReadonlyMap<string, readonly IrNetworkPolicy[]>;
  /** Sets that follow the pods, by family of their addresses. */
  sources: ReadonlyMap<Family, readonly { name: string; source: SetSource }[]>;
  profileChains: ReadonlyMap<string, string>;
  allowListChains: ReadonlyMap<string, string>;
  /** Kept in step with the newest state; rebuilt when an older state is updated again. */
  index: PodsByAddress;
}

/** Elements of one set at one address, and the chain keys they use (maps only). */
interface AddressElements {
  elements: Set<string>;
  uses: string[];
}

export class NodeRulesetState {
  private isConsumed = false;

  private constructor(
    readonly ir: Ir,
    readonly inventory: Inventory,
    readonly ruleset: NftRuleset,
    readonly diagnostics: Diagnostic[],
    private readonly record: BuildRecord,
    /** Chain key → how many local (pod, address) pairs use it. */
    private readonly uses: Map<string, number>,
  ) {}

  get nodeName(): string {
    return this.record.nodeName;
  }

  /**
   * Whether an update went on from this state: its sets were changed in place (a set of the
   * whole cluster is not copied for one pod) and now hold the next model, not this one.
   */
  get consumed(): boolean {
    return this.isConsumed;
  }

  /** A full build of the node's model, with what incremental updates need. */
  static build(ir: Ir, inventory: Inventory, nodeName: string): NodeRulesetState {
    const builder = new NodeRulesetBuilder(ir, inventory, nodeName);
    const { ruleset, diagnostics } = builder.build();
    const sideIndex = new Map<SideParts, number>();
    const sides: SideParts[] = [];
    const rulesBySide: Record<Direction, number[][]> = { egress: [], ingress: [] };
    builder.rules.forEach((rule, k) => {
      for (const [dir, ids] of [['egress', rule.from], ['ingress', rule.to]] as const) {
        const side = builder.sideParts(ids);
        let at = sideIndex.get(side);
        if (at === undefined) {
          sideIndex.set(side, (at = sides.push(side) - 1));
          rulesBySide.egress.push([]);
          rulesBySide.ingress.push([]);
        }
        rulesBySide[dir][at]!.push(k);
      }
    });
    const sideRules = { egress: rulesBySide.egress.map((r) => Int32Array.from(r)), ingress: rulesBySide.ingress.map((r) => Int32Array.from(r)) };
    const policiesByNamespace = new Map<string, IrNetworkPolicy[]>();
    for (const np of builder.policies) policiesByNamespace.set(np.namespace, [...(policiesByNamespace.get(np.namespace) ?? []), np]);
    const sources = new Map<Family, { name: string; source: SetSource }[]>([
      [4, []],
      [6, []],
    ]);
    for (const [name, source] of builder.setSources) sources.get(source.family)!.push({ name, source });
    const record: BuildRecord = {
      nodeName,
      membership: new PodMembership(builder.resolver.namespaces, inventory.services),
      rules: builder.rules,
      sides,
      sideRules,
      policiesByNamespace,
      sources,
      profileChains: builder.profileChains,
      allowListChains: builder.allowListChains,
      index: new PodsByAddress(inventory),
    };
    return new NodeRulesetState(ir, inventory, ruleset, diagnostics, record, builder.chainUses);
  }

  /**
   * The element changes that take this model to the one a full build gives for `next`, and
   * the state after them (this one is then consumed); undefined, with this state untouched,
   * when they cannot be decided from the changed pods alone.
   */
  podChurn(next: Inventory): { changes: ElementChange[]; state: NodeRulesetState } | undefined {
    const { record } = this;
    if (this.isConsumed || !sameApartFromPods(this.inventory, next) || !record.membership.namespaces.namesUnique) return undefined;
    const { removed, added } = diffPods(this.inventory.pods, next.pods);
    if (record.index.reflects !== this.inventory) record.index = new PodsByAddress(this.inventory);
    const addresses = new Set([...removed, ...added].flatMap((p) => (p.hostNetwork ? [] : everyPodAddress(p))));
    const before = new Map([...addresses].map((ip) => [ip, record.index.at(ip)]));
    for (const pod of removed) record.index.remove(pod);
    for (const pod of added) record.index.add(pod);
    record.index.reflects = next;

    const useDelta = new Map<string, number>();
    const bySet = new Map<string, { removed: string[]; added: string[] }>();
    for (const ip of addresses) {
      const value = ipToBigInt(ip);
      const old = new AddressView(record, ip, value, before.get(ip)!);
      const now = new AddressView(record, ip, value, record.index.at(ip));
      for (const { name, source } of record.sources.get(familyOf(ip))!) {
        const was = old.elements(source);
        const is = now.elements(source);
        if (was === undefined || is === undefined) return undefined; // a pod needs a chain no pod had
        for (const key of was.uses) useDelta.set(key, (useDelta.get(key) ?? 0) - 1);
        for (const key of is.uses) useDelta.set(key, (useDelta.get(key) ?? 0) + 1);
        const gone = [...was.elements].filter((e) => !is.elements.has(e));
        const come = [...is.elements].filter((e) => !was.elements.has(e));
        if (gone.length + come.length === 0) continue;
        let change = bySet.get(name);
        if (!change) bySet.set(name, (change = { removed: [], added: [] }));
        change.removed.push(...gone);
        change.added.push(...come);
      }
    }
    // The last pod of a chain gone: the full build would drop the chain.
    for (const [key, delta] of useDelta) if ((this.uses.get(key) ?? 0) + delta <= 0) return undefined;
    // Every edit is planned before any is applied: a refusal leaves this state as it was.
    const changes: ElementChange[] = [];
    const edits: ElementEdit[][] = [];
    for (const name of [...bySet.keys()].sort()) {
      const set = this.ruleset.sets.get(name)!;
      const change = { set, removed: sortElements(bySet.get(name)!.removed), added: sortElements(bySet.get(name)!.added) };
      const planned = planElementEdits(set.elements, change.removed, change.added);
      if (!planned) return undefined; // this model does not hold what the previous pods gave
      changes.push(change);
      edits.push(planned);
    }
    for (const [key, delta] of useDelta) this.uses.set(key, (this.uses.get(key) ?? 0) + delta);
    changes.forEach((c, k) => applyElementEdits(c.set.elements, edits[k]!));
    this.isConsumed = true;
    return { changes, state: new NodeRulesetState(this.ir, next, this.ruleset, this.diagnostics, record, this.uses) };
  }
}

/** The elements an address brings to each set that follows the pods, given the pods holding it. */
class AddressView {
  private sideMemo?: Int8Array;
  private readonly local: readonly InventoryPod[];

  constructor(
    private readonly record: BuildRecord,
    private readonly ip: string,
    private readonly value: bigint,
    private readonly pods: readonly InventoryPod[],
  ) {
    this.local = pods.filter((p) => p.nodeName === record.nodeName);
  }

  /** Undefined when a pod needs a chain that the build did not make. */
  elements(source: SetSource): AddressElements | undefined {
    const { ip, pods, record } = this;
    const m = record.membership;
    const out: AddressElements = { elements: new Set(), uses: [] };
    switch (source.kind) {
      case 'hosts':
        if (source.members.some((member) => m.fixedHost(member, ip) || this.podsHold(member))) out.elements.add(ip);
        return out;
      case 'namedPorts': {
        const { peer, name, protocol } = source;
        if (!peer.any && !peer.members.some((member) => m.fixedHost(member, ip) || m.inRanges(member, ip, this.value) || this.podsHold(member))) return out;
        for (const pod of pods) for (const p of pod.ports) if (p.name === name && p.protocol === protocol) out.elements.add(`${ip} . ${protocol} . ${p.port}`);
        return out;
      }
      case 'profiles': {
        if (this.local.length === 0) return out;
        const rules = this.rulesOf(source.dir);
        for (const pod of this.local) {
          const key = profileKey(source.dir, source.family, rules, pod);
          const chain = record.profileChains.get(key);
          if (chain === undefined) return undefined;
          out.elements.add(`${ip} : goto ${chain}`);
          out.uses.push(key);
        }
        return out;
      }
      case 'allowLists':
      case 'remoteIsolated': {
        const type = source.dir === 'egress' ? 'Egress' : 'Ingress';
        for (const pod of pods) {
          if (!pod.ips.includes(ip)) continue;
          const isLocal = pod.nodeName === record.nodeName;
          if (isLocal !== (source.kind === 'allowLists')) continue;
          const policies = this.isolating(pod, type);
          if (policies.length === 0) continue;
          if (!isLocal) {
            out.elements.add(ip);
            continue;
          }
          const key = allowListKey(type, source.family, policies, pod);
          const chain = record.allowListChains.get(key);
          if (chain === undefined) return undefined;
          out.elements.add(`${ip} : goto ${chain}`);
          out.uses.push(key);
        }
        return out;
      }
    }
  }

  private podsHold(member: IrMember): boolean {
    return this.pods.some((pod) => this.record.membership.podHolds(member, pod, this.ip));
  }

  /** The policies isolating the pod in one direction, in the builder's order (by id, once per listed type). */
  private isolating(pod: InventoryPod, type: 'Egress' | 'Ingress'): IrNetworkPolicy[] {
    const m = this.record.membership;
    return (this.record.policiesByNamespace.get(pod.namespace) ?? []).flatMap((np) =>
      m.selects({ kind: 'names', names: [np.namespace] }, np.podSelector, pod) ? np.policyTypes.filter((t) => t === type).map(() => np) : [],
    );
  }

  private sideHolds(k: number): boolean {
    this.sideMemo ??= new Int8Array(this.record.sides.length);
    if (this.sideMemo[k] === 0) {
      const side = this.record.sides[k]!;
      const m = this.record.membership;
      const holds =
        side.any ||
        side.plain.some((member) => m.fixedHost(member, this.ip) || m.inRanges(member, this.ip, this.value) || this.podsHold(member)) ||
        side.complements.some((c) => this.podsHold(c.everywhere) && !this.podsHold(c.inside));
      this.sideMemo[k] = holds ? 1 : -1;
    }
    return this.sideMemo[k] === 1;
  }

  /**
   * The rules whose own side holds the address, in evaluation order: gathered from the sides
   * that hold it, not by testing every rule. The builder lists a rule once per local pod
   * holding the address, so this does too.
   */
  private rulesOf(dir: Direction): IrRule[] {
    const { rules, sides, sideRules } = this.record;
    const held: Int32Array[] = [];
    let count = 0;
    for (let k = 0; k < sides.length; k++) {
      const list = sideRules[dir][k]!;
      if (list.length > 0 && this.sideHolds(k)) {
        held.push(list);
        count += list.length;
      }
    }
    const indexes = new Int32Array(count);
    let at = 0;
    for (const list of held) {
      indexes.set(list, at);
      at += list.length;
    }
    indexes.sort();
    const out: IrRule[] = [];
    for (const k of indexes) for (let n = 0; n < this.local.length; n++) out.push(rules[k]!);
    return out;
  }
}
