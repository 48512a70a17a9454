/**
 * Connectivity between endpoints, decided by the reference evaluator (src/explain) and
 * made fast by narrowing what it is given, never by deciding anything itself:
 *
 * - group membership is resolved once per distinct rule side (SelectorResolver over the
 *   endpoints' representative pods) into sorted endpoint-index lists;
 * - for one (source, destination) pair the evaluator gets only the rules whose sides
 *   contain both endpoints (the others cannot match, so the first match is unchanged), the
 *   groups those rules reach, the NetworkPolicies of the two namespaces and an inventory
 *   holding just the two representative pods (every lookup the evaluator does is about
 *   the source or the destination address, so the answer is the same as with all pods);
 * - ports are probed once per elementary interval of the port specs that can apply to the
 *   pair (inside an interval every spec either covers every port or none), so the verdict
 *   per interval is exact.
 */
import { evaluate, type L4Protocol, type Verdict } from '../explain/index.js';
import { tenantOwnsNamespace } from '../ir/selector.js';
import { canonicalJson } from '../ir/canonical.js';
import { ANY_GROUP_ID, type Ir, type IrGroup, type IrNamespaceScope, type IrNetworkPolicy, type IrPort, type IrRule } from '../ir/types.js';
import type { Inventory, InventoryNamespace } from '../inventory/index.js';
import { familyOf, ipToBigInt } from '../ir/address.js';
import { SelectorResolver, type AddressSet } from '../resolve/index.js';
import type { Endpoint, EndpointSet } from './endpoints.js';

/** Who decided a probe: a rule, NetworkPolicies, or the default. */
export interface Decider {
  id: string;
  /** `file:line`, when the IR knows it. */
  source?: string;
}

export interface Outcome {
  verdict: Verdict;
  by: Decider;
}

/** A contiguous port interval of one protocol (icmp: `lo` is the type, -1 for any type). */
export interface PortInterval {
  protocol: L4Protocol;
  lo: number;
  hi: number;
}

export function portIntervalLabel(p: PortInterval): string {
  if (p.protocol === 'icmp' || p.protocol === 'icmpv6') return p.lo < 0 ? p.protocol : `${p.protocol} type ${p.lo}`;
  if (p.lo <= 1 && p.hi >= 65535) return `${p.protocol}/*`;
  return p.lo === p.hi ? `${p.protocol}/${p.lo}` : `${p.protocol}/${p.lo}-${p.hi}`;
}

/** Members of one rule side as endpoint indices; `any` when the side matches every address. */
export interface Side {
  any: boolean;
  members: readonly number[];
}

const NO_RULES: readonly number[] = [];

const tenantLabel = (tenant: string): string => `~tenant/${tenant}`;

/**
 * For membership resolution only: tenant scopes become selectors on a synthetic per-tenant
 * namespace label (which users cannot write: `~` is not a label-key character), so that
 * resolving the isolation groups of N tenants costs N × namespaces, not N² × namespaces.
 * Ownership comes from tenantOwnsNamespace, the helper the evaluator uses; namespaces that
 * only pods mention get the evaluator's default labels.
 */
function withTenantLabels(ir: Ir, namespaces: readonly InventoryNamespace[], pods: readonly { namespace: string }[]): { ir: Ir; namespaces: InventoryNamespace[] } {
  // Only namespaces with pods can hold members; the others would only be filtered, group after group.
  const known = new Map(namespaces.map((n) => [n.name, n]));
  const used = new Map<string, InventoryNamespace>();
  for (const p of pods) if (!used.has(p.namespace)) used.set(p.namespace, known.get(p.namespace) ?? { name: p.namespace, labels: { 'kubernetes.io/metadata.name': p.namespace } });
  const labelled = [...used.values()].map((ns) => {
    const labels = { ...ns.labels };
    for (const t of ir.tenants) if (tenantOwnsNamespace(t, ns)) labels[tenantLabel(t.name)] = '';
    return { name: ns.name, labels };
  });
  const byRef = new Map(ir.tenants.flatMap((t) => [[t.name, t.name] as const, [t.id, t.name] as const]));
  const scope = (s: IrNamespaceScope): IrNamespaceScope => {
    if (s.kind !== 'tenant' && s.kind !== 'notTenant') return s;
    const key = tenantLabel(byRef.get(s.tenant) ?? `?${s.tenant}`);
    return { kind: 'selector', selector: [{ key, op: s.kind === 'tenant' ? 'Exists' : 'DoesNotExist', values: [] }] };
  };
  const groups = ir.groups.map((g) => ({ ...g, members: g.members.map((m) => (m.kind === 'pods' ? { ...m, scope: scope(m.scope) } : m)) }));
  return { ir: { ...ir, groups }, namespaces: labelled };
}

/** One IR version over a fixed endpoint list. */
export class VersionModel {
  private readonly resolver: SelectorResolver;
  private readonly sideMemo = new Map<string, Side>();
  private readonly fromSides: Side[];
  private readonly toSides: Side[];
  /** Per endpoint: the rules filed under their from side / to side (see the constructor). */
  private readonly byFrom: number[][];
  private readonly byTo: number[][];
  private readonly anyToAny: number[] = [];
  private readonly groupsById: Map<string, IrGroup>;
  private readonly groupClosure = new Map<number, IrGroup[]>();
  private readonly netpolsByNamespace = new Map<string, IrNetworkPolicy[]>();
  private readonly namespaces: Map<string, InventoryNamespace>;
  private readonly byIp = new Map<string, number>();
  /** Endpoint indices sorted by address, per family, for CIDR range lookups. */
  private readonly sortedByAddress: { family: number; value: bigint; index: number }[];

  private readonly fingerprints = new Map<string, string>();

  /**
   * `shared`: memberships by meaning, shared between the models of two versions over the
   * same endpoints, so HEAD resolves only the rule sides whose groups or tenants changed.
   */
  constructor(
    readonly ir: Ir,
    readonly set: EndpointSet,
    private readonly shared: Map<string, Side> = new Map(),
  ) {
    const endpoints = set.endpoints;
    endpoints.forEach((e, i) => this.byIp.set(e.ip, i));
    this.sortedByAddress = endpoints
      .map((e, index) => ({ family: familyOf(e.ip), value: ipToBigInt(e.ip), index }))
      .sort((a, b) => a.family - b.family || (a.value < b.value ? -1 : a.value > b.value ? 1 : a.index - b.index));
    const pods = endpoints.flatMap((e) => (e.pod ? [e.pod] : []));
    const resolvable = withTenantLabels(ir, set.namespaces, pods);
    this.resolver = new SelectorResolver(resolvable.ir, { namespaces: resolvable.namespaces, pods, nodes: [], services: set.services });
    this.namespaces = new Map(set.namespaces.map((n) => [n.name, n]));
    this.groupsById = new Map(ir.groups.map((g) => [g.id, g]));
    for (const np of ir.networkPolicies) {
      const list = this.netpolsByNamespace.get(np.namespace) ?? [];
      list.push(np);
      this.netpolsByNamespace.set(np.namespace, list);
    }
    this.byFrom = endpoints.map(() => []);
    this.byTo = endpoints.map(() => []);
    this.fromSides = ir.rules.map((r) => this.side(r.from));
    this.toSides = ir.rules.map((r) => this.side(r.to));
    // Each rule is filed under its smaller side only (an `any` side counts as everything):
    // isolation rules pair one tenant with "every pod outside it", and filing those under
    // the big side would give every endpoint one entry per tenant.
    ir.rules.forEach((_, i) => {
      const from = this.fromSides[i]!;
      const to = this.toSides[i]!;
      if (from.any && to.any) this.anyToAny.push(i);
      else if (!from.any && (to.any || from.members.length <= to.members.length)) for (const e of from.members) this.byFrom[e]!.push(i);
      else for (const e of to.members) this.byTo[e]!.push(i);
    });
  }

  /** Endpoint indices inside a rule side (a union of groups); memoized per side. */
  side(groupIds: readonly string[]): Side {
    const key = [...groupIds].sort().join(',');
    let side = this.sideMemo.get(key);
    if (!side) {
      const meaning = key.split(',').map((id) => this.fingerprint(id, new Set())).join(',');
      side = this.shared.get(meaning);
      if (!side) {
        side = this.members(this.resolver.groupUnion(groupIds));
        this.shared.set(meaning, side);
      }
      this.sideMemo.set(key, side);
    }
    return side;
  }

  /** What a group means in this version: its members, nested groups and the tenants its scopes name. */
  private fingerprint(id: string, visiting: Set<string>): string {
    const known = this.fingerprints.get(id);
    if (known) return known;
    if (visiting.has(id)) return `${id}:cycle`;
    visiting.add(id);
    const g = this.groupsById.get(id);
    const tenantSpec = (ref: string): string => canonicalJson(this.ir.tenants.find((t) => t.name === ref || t.id === ref)?.namespaces ?? null);
    const parts = (g?.members ?? []).map((m) => {
      if (m.kind === 'group') return `(${this.fingerprint(m.group, visiting)})`;
      if (m.kind === 'pods' && (m.scope.kind === 'tenant' || m.scope.kind === 'notTenant')) return `${canonicalJson(m)}${tenantSpec(m.scope.tenant)}`;
      return canonicalJson(m);
    });
    const fingerprint = id === ANY_GROUP_ID ? id : `${id}${g ? `{${parts.join(';')}}` : ':missing'}`;
    this.fingerprints.set(id, fingerprint);
    return fingerprint;
  }

  private members(set: AddressSet): Side {
    if (set.any) return { any: true, members: [] };
    const out = new Set<number>();
    for (const ip of set.hosts) {
      const i = this.byIp.get(ip);
      if (i !== undefined) out.add(i);
    }
    for (const r of set.ranges) {
      let lo = 0;
      let hi = this.sortedByAddress.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const e = this.sortedByAddress[mid]!;
        if (e.family < r.family || (e.family === r.family && e.value < r.first)) lo = mid + 1;
        else hi = mid;
      }
      for (let k = lo; k < this.sortedByAddress.length; k++) {
        const e = this.sortedByAddress[k]!;
        if (e.family !== r.family || e.value > r.last) break;
        out.add(e.index);
      }
    }
    return { any: false, members: [...out].sort((a, b) => a - b) };
  }

  sideContains(side: Side, endpoint: number): boolean {
    if (side.any) return true;
    const m = side.members;
    let lo = 0;
    let hi = m.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (m[mid] === endpoint) return true;
      if (m[mid]! < endpoint) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  private ruleIndexById?: Map<string, number>;
  private tenantByNamespace?: Map<string, string | undefined>;

  ruleById(id: string): IrRule | undefined {
    this.ruleIndexById ??= new Map(this.ir.rules.map((r, i) => [r.id, i]));
    const i = this.ruleIndexById.get(id);
    return i === undefined ? undefined : this.ir.rules[i];
  }

  /** The tenant owning a namespace (memoized: summaries ask for the same few namespaces). */
  tenantOf(namespace: string): string | undefined {
    this.tenantByNamespace ??= new Map();
    if (!this.tenantByNamespace.has(namespace)) {
      const ns = this.namespaces.get(namespace) ?? { name: namespace, labels: { 'kubernetes.io/metadata.name': namespace } };
      this.tenantByNamespace.set(namespace, this.ir.tenants.find((t) => tenantOwnsNamespace(t, ns))?.name);
    }
    return this.tenantByNamespace.get(namespace);
  }

  ruleSides(index: number): { from: Side; to: Side } {
    return { from: this.fromSides[index]!, to: this.toSides[index]! };
  }

  /** Indices of the rules whose sides hold both endpoints, in rule order. */
  rulesFor(src: number, dst: number): number[] {
    const out: number[] = [...this.anyToAny];
    for (const i of this.byFrom[src] ?? NO_RULES) if (this.sideContains(this.toSides[i]!, dst)) out.push(i);
    for (const i of this.byTo[dst] ?? NO_RULES) if (this.sideContains(this.fromSides[i]!, src)) out.push(i);
    return out.sort((x, y) => x - y);
  }

  netpolsFor(src: number, dst: number): IrNetworkPolicy[] {
    const a = this.set.endpoints[src]!.pod?.namespace;
    const b = this.set.endpoints[dst]!.pod?.namespace;
    const list = [...(a ? (this.netpolsByNamespace.get(a) ?? []) : []), ...(b && b !== a ? (this.netpolsByNamespace.get(b) ?? []) : [])];
    return list;
  }

  private groupsOf(ruleIndex: number): IrGroup[] {
    let groups = this.groupClosure.get(ruleIndex);
    if (!groups) {
      const seen = new Map<string, IrGroup>();
      const visit = (id: string): void => {
        const g = this.groupsById.get(id);
        if (!g || seen.has(id)) return;
        seen.set(id, g);
        for (const m of g.members) if (m.kind === 'group') visit(m.group);
      };
      const rule = this.ir.rules[ruleIndex]!;
      for (const id of [...rule.from, ...rule.to]) visit(id);
      groups = [...seen.values()];
      this.groupClosure.set(ruleIndex, groups);
    }
    return groups;
  }

  /** Everything the evaluator needs to decide connections from `src` to `dst`. */
  narrowed(src: number, dst: number): { ir: Ir; inventory: Inventory; rules: IrRule[]; netpols: IrNetworkPolicy[] } {
    const ruleIndices = this.rulesFor(src, dst);
    const rules = ruleIndices.map((i) => this.ir.rules[i]!);
    const groups = new Map<string, IrGroup>();
    for (const i of ruleIndices) for (const g of this.groupsOf(i)) groups.set(g.id, g);
    const netpols = this.netpolsFor(src, dst);
    const s = this.set.endpoints[src]!;
    const d = this.set.endpoints[dst]!;
    const pods = s === d ? [s.pod] : [s.pod, d.pod];
    const namespaces = [s.pod?.namespace, d.pod?.namespace].flatMap((n) => (n && this.namespaces.has(n) ? [this.namespaces.get(n)!] : []));
    return {
      ir: { ...this.ir, rules, groups: [...groups.values()], networkPolicies: netpols },
      inventory: { namespaces, pods: pods.flatMap((p) => (p ? [p] : [])), nodes: [], services: this.set.services },
      rules,
      netpols,
    };
  }
}

export function decide(narrowed: { ir: Ir; inventory: Inventory }, src: Endpoint, dst: Endpoint, probe: PortInterval): Outcome {
  const icmp = probe.protocol === 'icmp' || probe.protocol === 'icmpv6';
  const evaluation = evaluate(narrowed.ir, narrowed.inventory, {
    src: src.ip,
    dst: dst.ip,
    protocol: probe.protocol,
    ...(icmp ? (probe.lo >= 0 ? { icmpType: probe.lo } : {}) : { port: probe.lo }),
  });
  const decision = evaluation.egress.verdict !== 'allow' ? evaluation.egress : evaluation.ingress;
  const id = decision.id || 'default';
  const ref = narrowed.ir.sources[id.split(',')[0]!]?.[0];
  return { verdict: evaluation.verdict, by: { id, ...(ref ? { source: `${ref.file}:${ref.line}` } : {}) } };
}

/**
 * Elementary port intervals of the specs that can apply (rules, NetworkPolicy ports, named
 * ports resolved on the destination pod). Protocol-wide and "all traffic" specs add TCP.
 */
export function probeIntervals(specs: readonly IrPort[], dst: Endpoint): PortInterval[] {
  const cuts = new Map<L4Protocol, Set<number>>();
  const icmpTypes = new Map<L4Protocol, Set<number>>();
  const cut = (protocol: L4Protocol, ...points: number[]): void => {
    let set = cuts.get(protocol);
    if (!set) cuts.set(protocol, (set = new Set([1, 65536])));
    for (const p of points) set.add(p);
  };
  cut('tcp');
  for (const spec of specs) {
    if (spec.protocol === 'any') continue;
    if (spec.protocol === 'icmp' || spec.protocol === 'icmpv6') {
      const set = icmpTypes.get(spec.protocol) ?? new Set([-1]);
      if (spec.icmpType !== undefined) set.add(spec.icmpType);
      icmpTypes.set(spec.protocol, set);
      continue;
    }
    if (spec.name !== undefined) {
      for (const p of dst.pod?.ports ?? []) if (p.name === spec.name && p.protocol === spec.protocol) cut(spec.protocol, p.port, p.port + 1);
      cut(spec.protocol);
    } else if (spec.port !== undefined) cut(spec.protocol, spec.port, (spec.endPort ?? spec.port) + 1);
    else cut(spec.protocol);
  }
  const out: PortInterval[] = [];
  for (const protocol of [...cuts.keys()].sort()) {
    const points = [...cuts.get(protocol)!].filter((p) => p >= 1 && p <= 65536).sort((a, b) => a - b);
    for (let i = 0; i + 1 < points.length; i++) out.push({ protocol, lo: points[i]!, hi: points[i + 1]! - 1 });
  }
  for (const protocol of [...icmpTypes.keys()].sort()) {
    for (const t of [...icmpTypes.get(protocol)!].sort((a, b) => a - b)) out.push({ protocol, lo: t, hi: t });
  }
  return out;
}

export function portsOf(rules: readonly IrRule[], netpols: readonly IrNetworkPolicy[]): IrPort[] {
  const out: IrPort[] = [];
  for (const r of rules) out.push(...r.ports);
  for (const np of netpols) for (const rule of [...np.ingress, ...np.egress]) out.push(...(rule.ports ?? []));
  return out;
}

/** Same outcome: merge adjacent intervals of one protocol. */
export function mergeIntervals<T>(items: { port: PortInterval; value: T }[], same: (a: T, b: T) => boolean): { port: PortInterval; value: T }[] {
  const out: { port: PortInterval; value: T }[] = [];
  for (const item of items) {
    const prev = out[out.length - 1];
    const numeric = item.port.protocol !== 'icmp' && item.port.protocol !== 'icmpv6';
    if (prev && numeric && prev.port.protocol === item.port.protocol && prev.port.hi + 1 === item.port.lo && same(prev.value, item.value)) {
      prev.port = { ...prev.port, hi: item.port.hi };
    } else out.push({ port: { ...item.port }, value: item.value });
  }
  return out;
}

