/**
 * Resolves groups, tenants and NetworkPolicy selectors against the inventory into address
 * sets. Each distinct selector (by canonical JSON) is resolved once and shared by every
 * rule that uses it, so the cost is pods × distinct selectors, never pods × rules.
 */
import { ANY_GROUP_ID, type Ir, type IrMember, type IrNetpolPeer, type IrNetworkPolicy, type IrSelector } from '../ir/types.js';
import { matchesSelector } from '../ir/selector.js';
import type { Inventory, InventoryNamespace, InventoryPod, InventoryService } from '../inventory/index.js';
import { familyOf, ipToBigInt } from '../ir/address.js';
import { canonicalJson } from '../ir/canonical.js';
import { NamespaceIndex } from './namespaces.js';
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

/** The addresses of a pod that a pods member takes: its primary IPs, or those on the member's network. */
export function podAddresses(pod: InventoryPod, network: string | undefined): string[] {
  return network === undefined ? pod.ips : pod.networks.flatMap((n) => (networkNameMatches(n.name, network) ? n.ips : []));
}

/** Every address of a pod, primary network first, each once. */
export function everyPodAddress(pod: InventoryPod): string[] {
  const all = pod.networks.length === 0 ? pod.ips : [...pod.ips, ...pod.networks.flatMap((n) => n.ips)];
  return all.length < 2 ? all : [...new Set(all)];
}

/** A service's pod selector as a label selector; undefined without one (manual endpoints). */
export function serviceSelector(svc: InventoryService | undefined): IrSelector | undefined {
  const selector = svc?.selector;
  return selector && Object.keys(selector).length > 0 ? Object.entries(selector).map(([key, v]) => ({ key, op: 'In', values: [v] })) : undefined;
}

/** The exact ranges of a CIDR member or ipBlock peer: the CIDR minus its `except` blocks. */
export function cidrRanges(cidr: string, except: readonly string[]): AddressRange[] {
  return subtractRanges([cidrToRange(cidr)], except.map(cidrToRange));
}

/** A NetworkPolicy peer as the member it stands for (no namespaceSelector: the policy's own namespace). */
export function netpolPeerMember(np: IrNetworkPolicy, peer: IrNetpolPeer): IrMember {
  if (peer.kind === 'ipBlock') return { kind: 'cidr', cidr: peer.cidr, except: peer.except };
  return { kind: 'pods', scope: peer.namespaceSelector === undefined ? { kind: 'names', names: [np.namespace] } : { kind: 'selector', selector: peer.namespaceSelector }, selector: peer.podSelector };
}

export class SelectorResolver {
  /** How many distinct selectors were resolved against the inventory (the expensive step). */
  readonly stats = { selectorResolutions: 0, cacheHits: 0 };
  private readonly memo = new Map<string, AddressSet>();
  private readonly podMemo = new Map<string, InventoryPod[]>();
  private readonly flatMemo = new Map<string, { any: boolean; members: IrMember[] }>();
  private readonly groups: Map<string, IrMember[]>;
  private readonly podsByNamespace = new Map<string, InventoryPod[]>();
  /** `protocol/name` → every address of each pod declaring that named port, with its numbers; built on first use. */
  private namedPorts: Map<string, Map<string, { ports: number[]; value: bigint }>> | undefined;
  readonly namespaces: NamespaceIndex;

  constructor(
    ir: Ir,
    readonly inventory: Inventory,
  ) {
    this.groups = new Map(ir.groups.map((g) => [g.id, g.members]));
    for (const pod of inventory.pods) {
      if (pod.hostNetwork) continue; // their IPs are the node's, not subject to pod policy
      let list = this.podsByNamespace.get(pod.namespace);
      if (!list) this.podsByNamespace.set(pod.namespace, (list = []));
      list.push(pod);
    }
    this.namespaces = new NamespaceIndex(ir, inventory.namespaces);
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

  /**
   * Pods outside a tenant: the selector's pods in all namespaces, minus the tenant's
   * namespaces. Every isolated tenant has such a side, so the selector is matched once for
   * all of them instead of once per tenant.
   */
  private podsOutsideTenant(tenant: string, selector: IrSelector): InventoryPod[] {
    const key = `p:${canonicalJson([{ kind: 'notTenant', tenant }, selector])}`;
    let pods = this.podMemo.get(key);
    if (!pods) {
      const everywhere = this.pods(`p:${canonicalJson([{ kind: 'all' }, selector])}`, () => this.namespaces.all, selector);
      const inside = this.namespaces.ownedNamesOf(tenant);
      pods = inside.size === 0 ? everywhere : everywhere.filter((p) => !inside.has(p.namespace));
      this.podMemo.set(key, pods);
    }
    return pods;
  }

  /** Pods (not hostNetwork) of the namespaces matching `nsFilter` whose labels match `selector`; memoized. */
  private pods(key: string, namespaces: () => readonly InventoryNamespace[], selector: IrSelector): InventoryPod[] {
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
          const pods = member.scope.kind === 'notTenant' ? this.podsOutsideTenant(member.scope.tenant, member.selector) : this.pods(`p:${canonicalJson([member.scope, member.selector])}`, () => this.namespaces.in(member.scope), member.selector);
          const hosts = new Set<string>();
          for (const pod of pods) for (const ip of podAddresses(pod, member.network)) hosts.add(ip);
          return { any: false, hosts, ranges: [], unresolved: [] };
        }
        case 'cidr':
          return { any: false, hosts: new Set(), ranges: cidrRanges(member.cidr, member.except), unresolved: [] };
        case 'fqdn':
          return { any: false, hosts: new Set(), ranges: [], unresolved: [`fqdn ${member.pattern}`] };
        case 'service': {
          if (member.cluster !== undefined) return { any: false, hosts: new Set(), ranges: [], unresolved: [`service ${member.namespace}/${member.name} in cluster ${member.cluster}`] };
          const svc = this.inventory.services.find((s) => s.namespace === member.namespace && s.name === member.name);
          const hosts = new Set(svc?.clusterIps ?? []);
          const selector = serviceSelector(svc);
          if (selector) {
            const ns = this.namespaces.named(member.namespace);
            for (const pod of this.pods(`s:${canonicalJson([member.namespace, selector])}`, () => ns, selector)) for (const ip of pod.ips) hosts.add(ip);
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
    return this.pods(`p:${canonicalJson([{ kind: 'names', names: [np.namespace] }, np.podSelector])}`, () => this.namespaces.named(np.namespace), np.podSelector);
  }

  /** Canonical key of a peer (the policy namespace matters only without namespaceSelector). */
  peerKey(np: IrNetworkPolicy, peer: IrNetpolPeer): string {
    return canonicalJson(peer.kind === 'pods' && peer.namespaceSelector === undefined ? { ...peer, namespace: np.namespace } : peer);
  }

  netpolPeer(np: IrNetworkPolicy, peer: IrNetpolPeer): AddressSet {
    return this.member(netpolPeerMember(np, peer));
  }

  /**
   * `ip . proto . port` elements for the pods in `set` that declare the named port: named
   * ports resolve on the destination pod, so a rule whose destination varies needs them all.
   */
  namedPortTargets(setKey: string, set: AddressSet, name: string, protocol: string): string[] {
    const key = `${setKey}|${protocol}/${name}`;
    return [
      ...this.cached(`np:${key}`, () => {
        const declaring = this.podsDeclaring(protocol, name);
        const hosts = new Set<string>();
        const add = (ip: string, ports: readonly number[]): void => {
          for (const port of ports) hosts.add(`${ip} . ${protocol} . ${port}`);
        };
        // A set of pod addresses is walked itself (usually far fewer than the pods declaring
        // the port); CIDRs and `any` are tested against each declaring pod.
        if (!set.any && set.ranges.length === 0) {
          for (const ip of set.hosts) {
            const pod = declaring.get(ip);
            if (pod) add(ip, pod.ports);
          }
        } else for (const [ip, pod] of declaring) if (setContains(set, ip, pod.value)) add(ip, pod.ports);
        return { any: false, hosts, ranges: [], unresolved: [] };
      }).hosts,
    ];
  }

  private podsDeclaring(protocol: string, name: string): Map<string, { ports: number[]; value: bigint }> {
    if (!this.namedPorts) {
      this.namedPorts = new Map();
      for (const pods of this.podsByNamespace.values()) {
        for (const pod of pods) {
          for (const p of pod.ports) {
            if (p.name === undefined) continue;
            const portKey = `${p.protocol}/${p.name}`;
            let byIp = this.namedPorts.get(portKey);
            if (!byIp) this.namedPorts.set(portKey, (byIp = new Map()));
            for (const ip of everyPodAddress(pod)) {
              const known = byIp.get(ip);
              if (known) known.ports.push(p.port);
              else byIp.set(ip, { ports: [p.port], value: ipToBigInt(ip) });
            }
          }
        }
      }
    }
    return this.namedPorts.get(`${protocol}/${name}`) ?? new Map();
  }
}
