/**
 * Resolves groups, tenants and NetworkPolicy selectors against the inventory into address
 * sets. Each distinct selector (by canonical JSON) is resolved once and shared by every
 * rule that uses it, so the cost is pods × distinct selectors, never pods × rules.
 */
import { ANY_GROUP_ID, type Ir, type IrMember, type IrNamespaceScope, type IrNetpolPeer, type IrNetworkPolicy, type IrSelector, type IrTenant } from '../ir/types.js';
import { matchesSelector, tenantOfNamespace } from '../ir/selector.js';
import type { Inventory, InventoryNamespace, InventoryPod } from '../inventory/index.js';
import { familyOf, ipToBigInt } from '../ir/address.js';
import { canonicalJson } from '../ir/canonical.js';
import { cidrToRange, normalizeRanges, rangesContain, subtractRanges, type AddressRange } from './ranges.js';

export interface AddressSet {
  /** Matches every address (`group:any`, or a peer list that is null upstream). */
  any: boolean;
  /** Single addresses (pod and service IPs), canonical. */
  hosts: ReadonlySet<string>;
  /** Exact ranges from CIDR members, `except` blocks subtracted; sorted and disjoint. */
  ranges: readonly AddressRange[];
  /** Members that cannot be resolved statically (fqdn, other clusters), for diagnostics. */
  unresolved: readonly string[];
}

export const EVERYTHING: AddressSet = { any: true, hosts: new Set(), ranges: [], unresolved: [] };

/** `value`: the address as a number, when the caller tests one address against many sets. */
export function setContains(set: AddressSet, ip: string, value?: bigint): boolean {
  return set.any || set.hosts.has(ip) || (set.ranges.length > 0 && rangesContain(set.ranges, familyOf(ip), value ?? ipToBigInt(ip)));
}

function union(sets: readonly AddressSet[]): AddressSet {
  if (sets.length === 0) return { any: false, hosts: new Set(), ranges: [], unresolved: [] };
  if (sets.length === 1) return sets[0]!;
  const hosts = new Set<string>();
  for (const s of sets) for (const h of s.hosts) hosts.add(h);
  return {
    any: sets.some((s) => s.any),
    hosts,
    ranges: normalizeRanges(sets.flatMap((s) => s.ranges)),
    unresolved: [...new Set(sets.flatMap((s) => s.unresolved))].sort(),
  };
}

function networkNameMatches(reported: string, wanted: string): boolean {
  return reported === wanted || reported.endsWith(`/${wanted}`);
}

export class SelectorResolver {
  /** How many distinct selectors were resolved against the inventory (the expensive step). */
  readonly stats = { selectorResolutions: 0, cacheHits: 0 };
  private readonly memo = new Map<string, AddressSet>();
  private readonly podMemo = new Map<string, InventoryPod[]>();
  private readonly flatMemo = new Map<string, { any: boolean; members: IrMember[] }>();
  private readonly groups: Map<string, IrMember[]>;
  private readonly podsByNamespace = new Map<string, InventoryPod[]>();
  private readonly namespaces: InventoryNamespace[];
  private readonly namespaceByName: Map<string, InventoryNamespace>;
  private readonly owners = new Map<string, IrTenant | undefined>();

  constructor(
    private readonly ir: Ir,
    readonly inventory: Inventory,
  ) {
    this.groups = new Map(ir.groups.map((g) => [g.id, g.members]));
    for (const pod of inventory.pods) {
      if (pod.hostNetwork) continue; // their IPs are the node's, not subject to pod policy
      let list = this.podsByNamespace.get(pod.namespace);
      if (!list) this.podsByNamespace.set(pod.namespace, (list = []));
      list.push(pod);
    }
    this.namespaces = [...inventory.namespaces];
    this.namespaceByName = new Map(this.namespaces.map((n) => [n.name, n]));
  }

  private cached(key: string, compute: () => AddressSet): AddressSet {
    const hit = this.memo.get(key);
    if (hit) {
      this.stats.cacheHits++;
      return hit;
    }
    const value = compute();
    this.memo.set(key, value);
    return value;
  }

  /** The tenant owning a namespace (the checker allows at most one), indexed on first use. */
  private ownerOf(ns: InventoryNamespace): IrTenant | undefined {
    if (!this.owners.has(ns.name)) this.owners.set(ns.name, tenantOfNamespace(this.ir, ns));
    return this.owners.get(ns.name);
  }

  private namespacesNamed(name: string): InventoryNamespace[] {
    const ns = this.namespaceByName.get(name);
    return ns ? [ns] : [];
  }

  /** Namespaces by owning tenant (under its name and its id), indexed on first use. */
  private owned?: Map<string, InventoryNamespace[]>;
  private namespacesOwnedBy(tenant: string): InventoryNamespace[] {
    if (!this.owned) {
      this.owned = new Map();
      for (const ns of this.namespaces) {
        const owner = this.ownerOf(ns);
        if (!owner) continue;
        for (const key of new Set([owner.name, owner.id])) {
          let list = this.owned.get(key);
          if (!list) this.owned.set(key, (list = []));
          list.push(ns);
        }
      }
    }
    return this.owned.get(tenant) ?? [];
  }

  private namespacesIn(scope: IrNamespaceScope): InventoryNamespace[] {
    switch (scope.kind) {
      case 'names':
        return scope.names.flatMap((n) => this.namespacesNamed(n));
      case 'all':
        return this.namespaces;
      case 'selector':
        return this.namespaces.filter((ns) => matchesSelector(scope.selector, ns.labels));
      case 'tenant':
        return this.namespacesOwnedBy(scope.tenant);
      case 'notTenant': {
        const inside = new Set(this.namespacesOwnedBy(scope.tenant));
        return this.namespaces.filter((ns) => !inside.has(ns));
      }
    }
  }

  /**
   * Pods outside a tenant: the selector's pods in all namespaces, minus the tenant's
   * namespaces. Every isolated tenant has such a side, so the selector is matched once for
   * all of them instead of once per tenant.
   */
  private podsOutsideTenant(tenant: string, selector: IrSelector): InventoryPod[] {
    const key = `p:${canonicalJson([{ kind: 'notTenant', tenant }, selector])}`;
    let pods = this.podMemo.get(key);
    if (!pods) {
      const everywhere = this.pods(`p:${canonicalJson([{ kind: 'all' }, selector])}`, () => this.namespaces, selector);
      const inside = new Set(this.namespacesOwnedBy(tenant).map((ns) => ns.name));
      pods = inside.size === 0 ? everywhere : everywhere.filter((p) => !inside.has(p.namespace));
      this.podMemo.set(key, pods);
    }
    return pods;
  }

  /** Pods (not hostNetwork) of the namespaces matching `nsFilter` whose labels match `selector`; memoized. */
  private pods(key: string, namespaces: () => InventoryNamespace[], selector: IrSelector): InventoryPod[] {
    let pods = this.podMemo.get(key);
    if (!pods) {
      this.stats.selectorResolutions++;
      pods = namespaces().flatMap((ns) => (this.podsByNamespace.get(ns.name) ?? []).filter((p) => matchesSelector(selector, p.labels)));
      this.podMemo.set(key, pods);
    }
    return pods;
  }

  member(member: IrMember): AddressSet {
    return this.cached(`m:${canonicalJson(member)}`, () => {
      switch (member.kind) {
        case 'pods': {
          if (member.cluster !== undefined) return { ...EVERYTHING, any: false, unresolved: [`pods in cluster ${member.cluster}`] };
          const pods = member.scope.kind === 'notTenant' ? this.podsOutsideTenant(member.scope.tenant, member.selector) : this.pods(`p:${canonicalJson([member.scope, member.selector])}`, () => this.namespacesIn(member.scope), member.selector);
          const hosts = new Set<string>();
          for (const pod of pods) {
            if (member.network === undefined) for (const ip of pod.ips) hosts.add(ip);
            else for (const n of pod.networks) if (networkNameMatches(n.name, member.network)) for (const ip of n.ips) hosts.add(ip);
          }
          return { any: false, hosts, ranges: [], unresolved: [] };
        }
        case 'cidr':
          return { any: false, hosts: new Set(), ranges: subtractRanges([cidrToRange(member.cidr)], member.except.map(cidrToRange)), unresolved: [] };
        case 'fqdn':
          return { any: false, hosts: new Set(), ranges: [], unresolved: [`fqdn ${member.pattern}`] };
        case 'service': {
          if (member.cluster !== undefined) return { any: false, hosts: new Set(), ranges: [], unresolved: [`service ${member.namespace}/${member.name} in cluster ${member.cluster}`] };
          const svc = this.inventory.services.find((s) => s.namespace === member.namespace && s.name === member.name);
          const hosts = new Set(svc?.clusterIps ?? []);
          const selector = svc?.selector;
          if (selector && Object.keys(selector).length > 0) {
            const asSelector: IrSelector = Object.entries(selector).map(([key, v]) => ({ key, op: 'In', values: [v] }));
            const ns = this.namespacesNamed(member.namespace);
            for (const pod of this.pods(`s:${canonicalJson([member.namespace, asSelector])}`, () => ns, asSelector)) for (const ip of pod.ips) hosts.add(ip);
          }
          return { any: false, hosts, ranges: [], unresolved: [] };
        }
        case 'group':
          return this.group(member.group);
      }
    });
  }

  group(id: string, visiting: ReadonlySet<string> = new Set()): AddressSet {
    if (id === ANY_GROUP_ID) return EVERYTHING;
    return this.cached(`g:${id}`, () => {
      if (visiting.has(id)) return { any: false, hosts: new Set(), ranges: [], unresolved: [] }; // cycles are a checker error
      const inner = new Set(visiting).add(id);
      return union((this.groups.get(id) ?? []).map((m) => (m.kind === 'group' ? this.group(m.group, inner) : this.member(m))));
    });
  }

  /**
   * The leaf members (no `group` members) of a union of groups, deduplicated, in canonical
   * order; `any` when `group:any` is among them. Back ends use it to pick a representation
   * per member kind (e.g. a complement for `notTenant` scopes).
   */
  flatMembers(ids: readonly string[]): { any: boolean; members: IrMember[] } {
    const key = [...new Set(ids)].sort().join(',');
    let flat = this.flatMemo.get(key);
    if (!flat) {
      const seen = new Set<string>();
      const members = new Map<string, IrMember>();
      let any = false;
      const visit = (id: string): void => {
        if (id === ANY_GROUP_ID) any = true;
        if (seen.has(id)) return;
        seen.add(id);
        for (const m of this.groups.get(id) ?? []) {
          if (m.kind === 'group') visit(m.group);
          else members.set(canonicalJson(m), m);
        }
      };
      ids.forEach(visit);
      flat = { any, members: [...members.keys()].sort().map((k) => members.get(k)!) };
      this.flatMemo.set(key, flat);
    }
    return flat;
  }

  /** The union of several members. */
  memberUnion(members: readonly IrMember[]): AddressSet {
    return this.cached(`mu:${members.map((m) => canonicalJson(m)).sort().join('|')}`, () => union(members.map((m) => this.member(m))));
  }

  /** The union of several groups (one side of a rule), shared by every rule with the same side. */
  groupUnion(ids: readonly string[]): AddressSet {
    const sorted = [...new Set(ids)].sort();
    return this.cached(`u:${sorted.join(',')}`, () => union(sorted.map((id) => this.group(id))));
  }

  /** The pods a NetworkPolicy selects (its own namespace, podSelector). */
  selectedPods(np: IrNetworkPolicy): InventoryPod[] {
    return this.pods(`p:${canonicalJson([{ kind: 'names', names: [np.namespace] }, np.podSelector])}`, () => this.namespacesNamed(np.namespace), np.podSelector);
  }

  /** Canonical key of a peer (the policy namespace matters only without namespaceSelector). */
  peerKey(np: IrNetworkPolicy, peer: IrNetpolPeer): string {
    return canonicalJson(peer.kind === 'pods' && peer.namespaceSelector === undefined ? { ...peer, namespace: np.namespace } : peer);
  }

  netpolPeer(np: IrNetworkPolicy, peer: IrNetpolPeer): AddressSet {
    return this.cached(`n:${this.peerKey(np, peer)}`, () => {
      if (peer.kind === 'ipBlock') return { any: false, hosts: new Set(), ranges: subtractRanges([cidrToRange(peer.cidr)], peer.except.map(cidrToRange)), unresolved: [] };
      const scope: IrNamespaceScope = peer.namespaceSelector === undefined ? { kind: 'names', names: [np.namespace] } : { kind: 'selector', selector: peer.namespaceSelector };
      const hosts = new Set<string>();
      for (const pod of this.pods(`p:${canonicalJson([scope, peer.podSelector])}`, () => this.namespacesIn(scope), peer.podSelector)) for (const ip of pod.ips) hosts.add(ip);
      return { any: false, hosts, ranges: [], unresolved: [] };
    });
  }

  /**
   * `ip . proto . port` elements for the pods in `set` that declare the named port: named
   * ports resolve on the destination pod, so a rule whose destination varies needs them all.
   */
  namedPortTargets(setKey: string, set: AddressSet, name: string, protocol: string): string[] {
    const key = `${setKey}|${protocol}/${name}`;
    return [
      ...this.cached(`np:${key}`, () => {
        const hosts = new Set<string>();
        for (const pods of this.podsByNamespace.values()) {
          for (const pod of pods) {
            const ports = pod.ports.filter((p) => p.name === name && p.protocol === protocol);
            if (ports.length === 0) continue;
            for (const ip of [...pod.ips, ...pod.networks.flatMap((n) => n.ips)]) {
              if (setContains(set, ip)) for (const p of ports) hosts.add(`${ip} . ${protocol} . ${p.port}`);
            }
          }
        }
        return { any: false, hosts, ranges: [], unresolved: [] };
      }).hosts,
    ];
  }
}
