/**
 * Name resolution, validation and lowering of AST declarations to the IR. Reports every
 * problem it finds (no early exit) so that one run lists all diagnostics.
 */
import type * as A from '../ast/index.js';
import { TIERS } from '../ast/index.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Span } from '../diagnostics/span.js';
import { bigIntToIp, canonicalIp, parseCidr, intervalContains, type Interval } from '../ir/address.js';
import type * as I from '../ir/types.js';
import { ANY_GROUP_ID, IR_VERSION } from '../ir/types.js';
import { canonicalJson, shortHash } from '../ir/canonical.js';
import { icmpTypeReachesRules } from '../ir/icmp.js';

export interface Declared<T> {
  decl: T;
  id: string;
}

/** Registry of declarations of one kind keyed by name; reports duplicates with both spans. */
class Registry<T extends { span: Span }> {
  readonly byName = new Map<string, T>();
  constructor(
    private readonly what: string,
    private readonly diagnostics: Diagnostic[],
    /** The key and the span a duplicate is reported at. */
    private readonly keyOf: (decl: T) => { key: string; span: Span },
  ) {}

  add(decl: T): void {
    const { key, span } = this.keyOf(decl);
    const prior = this.byName.get(key);
    if (prior) this.diagnostics.push(diag('NI2002', span, [this.what, key], [{ span: this.keyOf(prior).span, label: 'first declared here' }]));
    else this.byName.set(key, decl);
  }
}

const byDeclName = (d: { name: A.Name }): { key: string; span: Span } => ({ key: d.name.value, span: d.name.span });

const SELECTOR_OPS: Record<A.SelectorOp, I.IrSelectorOp> = {
  eq: 'In',
  neq: 'NotIn',
  in: 'In',
  notin: 'NotIn',
  exists: 'Exists',
  notexists: 'DoesNotExist',
};

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(|[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const FQDN_PATTERN = /^(\*|(\*?[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?|\*)(\.[a-z0-9_*]([-a-z0-9_*]*[a-z0-9_])?)*\.?)$/;
const HTTP_METHOD = /^(\*|[A-Z]+)$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const unique = (list: string[]): string[] => sortUnique([...list], byString);

/**
 * Sorted by `compare`, neighbours it calls equal dropped, in place; `compare` must look at
 * every field. Most lists here have one or two elements: those skip `Array#sort`, which
 * allocates a work area for every call.
 */
function sortUnique<T>(list: T[], compare: (a: T, b: T) => number): T[] {
  if (list.length > 2) list.sort(compare);
  else if (list.length === 2 && compare(list[0]!, list[1]!) > 0) list.reverse();
  let kept = Math.min(list.length, 1);
  for (let i = 1; i < list.length; i++) if (compare(list[kept - 1]!, list[i]!) !== 0) list[kept++] = list[i]!;
  list.length = kept;
  return list;
}

function compareRequirements(a: I.IrRequirement, b: I.IrRequirement): number {
  if (a.key !== b.key) return byString(a.key, b.key);
  if (a.op !== b.op) return byString(a.op, b.op);
  for (let i = 0; i < Math.min(a.values.length, b.values.length); i++) if (a.values[i] !== b.values[i]) return byString(a.values[i]!, b.values[i]!);
  return a.values.length - b.values.length;
}

export function sourceRef(span: Span): I.IrSourceRef {
  const { start, end } = span; // each read of a DSL span's position works it out
  // Keys in canonical (sorted) order: the IR writer then shares the object instead of copying it.
  return { col: start.col, endCol: end.col, endLine: end.line, file: span.file, line: start.line };
}

export class Lowering {
  readonly diagnostics: Diagnostic[] = [];
  private readonly sources = new Map<string, I.IrSourceRef[]>();
  private readonly tenants = new Registry<A.TenantDecl>('tenant', this.diagnostics, byDeclName);
  private readonly groups = new Registry<A.GroupDecl>('group', this.diagnostics, byDeclName);
  private readonly policies = new Registry<A.PolicyDecl>('policy', this.diagnostics, byDeclName);
  private readonly pools = new Registry<A.PoolDecl>('pool', this.diagnostics, byDeclName);
  private readonly gateways = new Registry<A.EgressGatewayDecl>('egress gateway', this.diagnostics, byDeclName);
  private readonly rates = new Registry<A.RateLimitDecl>('rate limit', this.diagnostics, byDeclName);
  private readonly clusters = new Registry<A.ClusterDecl>('cluster', this.diagnostics, byDeclName);
  private readonly fixedIps = new Registry<A.FixedIpDecl>('fixed-ip pod', this.diagnostics, (d) => ({ key: `${d.namespace.value}/${d.pod.value}`, span: d.pod.span }));
  private readonly netpols = new Registry<A.NetworkPolicyDecl>('NetworkPolicy', this.diagnostics, (d) => ({ key: `${d.namespace.value}/${d.name.value}`, span: d.name.span }));
  /** Lowered groups by id, inline ones included. */
  private readonly irGroups = new Map<string, I.IrGroup>();
  private readonly groupMembersOnlyPods = new Map<string, boolean>();
  /** Ids of the named groups lowered so far, by name: rules name the same groups again and again. */
  private readonly namedGroupIds = new Map<string, string>();
  /** Memo of `reachesFqdn`: a group does not change once lowered. */
  private readonly groupReachesFqdn = new Map<string, boolean>();
  /** Address claims of pools and fixed IPs, for overlap and ownership checks. */
  private readonly claims: AddressClaim[] = [];
  private namespaceOwners: Map<string, string> | undefined;

  constructor(decls: readonly A.Decl[]) {
    for (const d of decls) {
      switch (d.kind) {
        case 'tenant':
          this.tenants.add(d);
          break;
        case 'group':
          if (d.name.value === 'any') this.diagnostics.push(diag('NI2002', d.name.span, ['group', 'any (built in)']));
          else this.groups.add(d);
          break;
        case 'policy':
          this.policies.add(d);
          break;
        case 'pool':
          this.pools.add(d);
          break;
        case 'egress-gateway':
          this.gateways.add(d);
          break;
        case 'rate':
          this.rates.add(d);
          break;
        case 'cluster':
          this.clusters.add(d);
          break;
        case 'fixed-ip':
          this.fixedIps.add(d);
          break;
        case 'networkpolicy':
          this.netpols.add(d);
          break;
      }
    }
  }

  private source(id: string, span: Span): void {
    const list = this.sources.get(id);
    if (list) list.push(sourceRef(span));
    else this.sources.set(id, [sourceRef(span)]); // most ids have one; a pushed array keeps room for 16 more
  }

  // ------------------------------------------------------------ small validators

  private cidr(text: A.Text): { canonical: string; interval: Interval } | undefined {
    const r = parseCidr(text.value);
    if (!r.ok) {
      this.diagnostics.push(diag('NI3001', text.span, [text.value, r.reason]));
      return undefined;
    }
    if (r.hostBitsSet) this.diagnostics.push(diag('NI3009', text.span, [text.value, r.canonical]));
    return { canonical: r.canonical, interval: r.interval };
  }

  private ip(text: A.Text): string | undefined {
    const ip = canonicalIp(text.value);
    if (!ip) this.diagnostics.push(diag('NI3002', text.span, [text.value]));
    return ip;
  }

  private selector(sel: A.Selector): I.IrSelector {
    const reqs = sel.terms.map((t): I.IrRequirement => {
      if (!LABEL_KEY.test(t.key.value)) this.diagnostics.push(diag('NI4009', t.key.span, ['label key', t.key.value, 'Label keys are [prefix/]name, name up to 63 characters of [A-Za-z0-9-_.].']));
      for (const v of t.values) {
        if (!LABEL_VALUE.test(v.value)) this.diagnostics.push(diag('NI4009', v.span, ['label value', v.value, 'Label values are up to 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric.']));
      }
      return { key: t.key.value, op: SELECTOR_OPS[t.op], values: t.op === 'exists' || t.op === 'notexists' ? [] : unique(t.values.map((v) => v.value)) };
    });
    return sortUnique(reqs, compareRequirements);
  }

  private namespaceName(name: A.Name): string {
    if (!DNS_LABEL.test(name.value)) this.diagnostics.push(diag('NI4009', name.span, ['namespace name', name.value, 'Namespace names are DNS labels: lowercase letters, digits and "-", at most 63 characters.']));
    return name.value;
  }

  private scope(scope: A.NamespaceScope | undefined): I.IrNamespaceScope {
    if (!scope) return { kind: 'all' };
    switch (scope.kind) {
      case 'names':
        return { kind: 'names', names: unique(scope.names.map((n) => this.namespaceName(n))) };
      case 'selector':
        return { kind: 'selector', selector: this.selector(scope.selector) };
      case 'tenant':
        if (!this.tenants.byName.has(scope.tenant.value)) this.diagnostics.push(diag('NI2001', scope.tenant.span, ['tenant', scope.tenant.value]));
        return { kind: 'tenant', tenant: scope.tenant.value };
    }
  }

  private clusterRef(name: A.Name | undefined): string | undefined {
    if (!name) return undefined;
    if (!this.clusters.byName.has(name.value)) this.diagnostics.push(diag('NI2001', name.span, ['cluster', name.value]));
    return name.value;
  }

  private ports(list: readonly A.PortSpec[]): I.IrPort[] {
    const out = list.map((p): I.IrPort => {
      const isIcmp = p.protocol === 'icmp' || p.protocol === 'icmpv6';
      let port: number | undefined;
      let endPort: number | undefined;
      let name: string | undefined;
      if (p.port) {
        if (isIcmp || p.protocol === 'any') this.diagnostics.push(diag('NI4001', p.span, [p.port.value, `${p.protocol} has no ports`]));
        else if (!Number.isInteger(p.port.value) || p.port.value < 1 || p.port.value > 65535) this.diagnostics.push(diag('NI4001', p.port.span, [p.port.value, 'out of range']));
        else port = p.port.value;
      }
      if (p.endPort) {
        if (!Number.isInteger(p.endPort.value) || p.endPort.value < 1 || p.endPort.value > 65535) this.diagnostics.push(diag('NI4001', p.endPort.span, [p.endPort.value, 'out of range']));
        else if (!p.port) this.diagnostics.push(diag('NI4001', p.endPort.span, [p.endPort.value, 'an end port needs a numeric start port']));
        else if (p.endPort.value < p.port.value) this.diagnostics.push(diag('NI4001', p.span, [`${p.port.value}-${p.endPort.value}`, 'the range ends before it starts']));
        else if (p.endPort.value > p.port.value) endPort = p.endPort.value;
      }
      if (p.name) {
        if (!/^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$/.test(p.name.value) || !/[a-z]/.test(p.name.value)) {
          this.diagnostics.push(diag('NI4001', p.name.span, [`"${p.name.value}"`, 'a named port is an IANA service name: up to 15 lowercase letters, digits and "-"']));
        } else name = p.name.value;
      }
      const icmpType = this.icmpNumber(p, p.icmpType, isIcmp);
      const icmpCode = this.icmpNumber(p, p.icmpCode, isIcmp);
      if (p.icmpCode && !p.icmpType) this.diagnostics.push(diag('NI4001', p.icmpCode.span, [p.icmpCode.value, 'an ICMP code needs an ICMP type']));
      if (isIcmp && icmpType !== undefined && !icmpTypeReachesRules(p.protocol as 'icmp' | 'icmpv6', icmpType)) this.diagnostics.push(diag('NI4012', p.icmpType!.span, [p.protocol, icmpType]));
      // Keys in canonical (sorted) order, as in `sourceRef`.
      const irPort: Partial<I.IrPort> = {};
      if (endPort !== undefined) irPort.endPort = endPort;
      if (icmpCode !== undefined) irPort.icmpCode = icmpCode;
      if (icmpType !== undefined) irPort.icmpType = icmpType;
      if (name !== undefined) irPort.name = name;
      if (port !== undefined) irPort.port = port;
      irPort.protocol = p.protocol;
      return irPort as I.IrPort;
    });
    return sortUnique(out, comparePorts);
  }

  /** A port's ICMP type or code, if written and valid. */
  private icmpNumber(p: A.PortSpec, lit: A.NumberLit | undefined, isIcmp: boolean): number | undefined {
    if (!lit) return undefined;
    if (!isIcmp) this.diagnostics.push(diag('NI4001', lit.span, [lit.value, `ICMP type/code need protocol icmp or icmpv6, not ${p.protocol}`]));
    else if (!Number.isInteger(lit.value) || lit.value < 0 || lit.value > 255) this.diagnostics.push(diag('NI4006', lit.span, [lit.value]));
    else return lit.value;
    return undefined;
  }

  private rate(r: A.Rate | undefined): number | undefined {
    if (!r) return undefined;
    if (!Number.isFinite(r.bps) || r.bps <= 0) {
      this.diagnostics.push(diag('NI4004', r.span, [r.text, 'a rate must be positive']));
      return undefined;
    }
    if (r.bps < 1000) this.diagnostics.push(diag('NI4004', r.span, [r.text, 'below 1 kbit/s, the smallest rate tc shapes accurately']));
    return Math.round(r.bps);
  }

  // ------------------------------------------------------------ groups

  private member(m: A.GroupMember, groupPath: string[]): I.IrMember | undefined {
    switch (m.kind) {
      case 'pods': {
        const member: I.IrMember = { kind: 'pods', scope: this.scope(m.scope), selector: this.selector(m.selector) };
        if (m.network) member.network = m.network.value;
        const cluster = this.clusterRef(m.cluster);
        if (cluster) member.cluster = cluster;
        return member;
      }
      case 'cidr': {
        const outer = this.cidr(m.cidr);
        const except: string[] = [];
        for (const e of m.except) {
          const inner = this.cidr(e);
          if (!inner || !outer) continue;
          if (!intervalContains(outer.interval, inner.interval)) this.diagnostics.push(diag('NI3003', e.span, [inner.canonical, outer.canonical]));
          else except.push(inner.canonical);
        }
        return outer ? { cidr: outer.canonical, except: unique(except), kind: 'cidr' } : undefined;
      }
      case 'fqdn': {
        const pattern = m.pattern.value.toLowerCase();
        if (!FQDN_PATTERN.test(pattern) || pattern.length > 253) {
          this.diagnostics.push(diag('NI4009', m.pattern.span, ['FQDN pattern', m.pattern.value, 'Write a DNS name, optionally with "*" wildcards: "api.example.com", "*.example.com", "*example.com".']));
          return undefined;
        }
        return { kind: 'fqdn', pattern };
      }
      case 'service': {
        this.namespaceName(m.namespace);
        if (!DNS_LABEL.test(m.name.value)) this.diagnostics.push(diag('NI4009', m.name.span, ['service name', m.name.value, 'Service names are DNS labels.']));
        const member: I.IrMember = { kind: 'service', namespace: m.namespace.value, name: m.name.value };
        const cluster = this.clusterRef(m.cluster);
        if (cluster) member.cluster = cluster;
        return member;
      }
      case 'group': {
        const id = this.namedGroup(m.name, groupPath);
        return id ? { kind: 'group', group: id } : undefined;
      }
    }
  }

  /** Lowers a named group once (memoised); detects nesting cycles. */
  private namedGroup(name: A.Name, path: string[]): string | undefined {
    const lowered = this.namedGroupIds.get(name.value);
    if (lowered !== undefined) return lowered;
    if (name.value === 'any') return ANY_GROUP_ID;
    const decl = this.groups.byName.get(name.value);
    if (!decl) {
      this.diagnostics.push(diag('NI2001', name.span, ['group', name.value]));
      return undefined;
    }
    const id = `group:${name.value}`;
    if (this.irGroups.has(id)) {
      this.namedGroupIds.set(name.value, id);
      return id;
    }
    if (path.includes(name.value)) {
      this.diagnostics.push(diag('NI2003', name.span, [name.value, [...path.slice(path.indexOf(name.value)), name.value].join(' -> ')]));
      return undefined;
    }
    const members: I.IrMember[] = [];
    let podsOnly = true;
    for (const m of decl.members) {
      const lowered = this.member(m, [...path, name.value]);
      if (!lowered) continue;
      members.push(lowered);
      if (lowered.kind === 'group') podsOnly &&= this.groupMembersOnlyPods.get(lowered.group) ?? false;
      else podsOnly &&= lowered.kind === 'pods';
    }
    if (!this.irGroups.has(id)) {
      this.irGroups.set(id, { id, members: sortByJson(members), name: name.value });
      this.groupMembersOnlyPods.set(id, podsOnly && members.length > 0);
      this.source(id, decl.span);
    }
    this.namedGroupIds.set(name.value, id);
    return id;
  }

  private inlineGroup(member: I.IrMember, span: Span): string {
    const id = `group:~${shortHash(canonicalJson(member))}`;
    if (!this.irGroups.has(id)) {
      this.irGroups.set(id, { id, members: [member], name: id.slice('group:'.length) });
      const podsOnly = member.kind === 'group' ? (this.groupMembersOnlyPods.get(member.group) ?? false) : member.kind === 'pods';
      this.groupMembersOnlyPods.set(id, podsOnly);
    }
    this.source(id, span);
    return id;
  }

  private peers(peers: readonly A.Peer[]): string[] {
    const ids: string[] = [];
    for (const p of peers) {
      if (p.kind === 'any') ids.push(ANY_GROUP_ID);
      else if (p.kind === 'group') {
        const id = this.namedGroup(p.name, []);
        if (id) ids.push(id);
      } else {
        const m = this.member(p.member, []);
        if (m) ids.push(this.inlineGroup(m, p.span));
      }
    }
    // `any` absorbs every other peer.
    return ids.includes(ANY_GROUP_ID) ? [ANY_GROUP_ID] : unique(ids);
  }

  /** Peers that must be pods (egress gateways, rate limits). */
  private podPeers(peers: readonly A.Peer[], what: string): string[] {
    const ids = this.peers(peers);
    for (const id of ids) {
      if (id === ANY_GROUP_ID || !this.groupMembersOnlyPods.get(id)) {
        const span = peers.find((p) => (p.kind === 'group' ? `group:${p.name.value}` === id : true))?.span ?? peers[0]!.span;
        this.diagnostics.push(diag('NI2005', span, [what, id.slice('group:'.length), 'non-pod members']));
      }
    }
    return ids;
  }

  // ------------------------------------------------------------ declarations

  lower(): I.Ir {
    for (const decl of this.groups.byName.values()) this.namedGroup(decl.name, []);
    const clusters = [...this.clusters.byName.values()].map((c) => this.cluster(c));
    const tenantPools: I.IrPool[] = [];
    const tenants = [...this.tenants.byName.values()].map((t) => this.tenant(t, tenantPools));
    this.checkNamespaceOwnership();
    const rules: I.IrRule[] = [];
    for (const p of this.policies.byName.values()) rules.push(...this.policy(p));
    rules.push(...this.isolationRules(tenants));
    rules.sort(compareRules);
    const workloadPools = [...this.pools.byName.values()].map((p) => this.pool(p)).filter((p): p is I.IrPool => p !== undefined);
    const fixedIps = [...this.fixedIps.byName.values()].map((f) => this.fixedIp(f)).filter((f): f is I.IrFixedIp => f !== undefined);
    const egressGateways = [...this.gateways.byName.values()].map((g) => this.gateway(g));
    const rateLimits = [...this.rates.byName.values()].map((r) => this.rateLimit(r, tenants));
    const networkPolicies = [...this.netpols.byName.values()].map((n) => this.networkPolicy(n));
    this.checkAddressClaims(tenantPools);
    const groups = [...this.irGroups.values()];
    if (rules.some((r) => r.from.includes(ANY_GROUP_ID) || r.to.includes(ANY_GROUP_ID))) {
      groups.push({ id: ANY_GROUP_ID, name: 'any', members: [{ kind: 'cidr', cidr: '0.0.0.0/0', except: [] }, { kind: 'cidr', cidr: '::/0', except: [] }] });
    }
    const sources: Record<string, I.IrSourceRef[]> = {};
    for (const id of [...this.sources.keys()].sort(byString)) {
      sources[id] = this.sources.get(id)!.sort((a, b) => byString(a.file, b.file) || a.line - b.line || a.col - b.col);
    }
    return {
      version: IR_VERSION,
      clusters: clusters.sort(byId),
      tenants: tenants.sort(byId),
      groups: groups.sort(byId),
      rules,
      networkPolicies: networkPolicies.sort(byId),
      pools: [...tenantPools, ...workloadPools].sort(byId),
      fixedIps: fixedIps.sort(byId),
      egressGateways: egressGateways.sort(byId),
      rateLimits: rateLimits.sort(byId),
      sources,
    };
  }

  private cluster(c: A.ClusterDecl): I.IrCluster {
    const id = `cluster:${c.name.value}`;
    this.source(id, c.span);
    const cidrs = (list: A.Text[]): string[] => unique(list.map((t) => this.cidr(t)?.canonical).filter((x): x is string => !!x));
    return { id, name: c.name.value, podCidrs: cidrs(c.podCidrs), serviceCidrs: cidrs(c.serviceCidrs) };
  }

  private tenant(t: A.TenantDecl, poolsOut: I.IrPool[]): I.IrTenant {
    const id = `tenant:${t.name.value}`;
    this.source(id, t.span);
    const namespaces: I.IrTenant['namespaces'] =
      t.namespaces.kind === 'selector'
        ? { kind: 'selector', selector: this.selector(t.namespaces.selector) }
        : { kind: 'names', names: t.namespaces.kind === 'names' ? unique(t.namespaces.names.map((n) => this.namespaceName(n))) : [] };
    const poolIds: string[] = [];
    // Lowered once, so that a bad or loose range is reported once, not once per family.
    const lowered = t.pools.map((r) => this.range(r)).filter((r): r is LoweredRange => r !== undefined);
    for (const family of [4, 6] as const) {
      const ranges = lowered.filter((r) => r.family === family);
      if (!ranges.length) continue;
      const pool = makePool(`pool:tenant/${t.name.value}/v${family}`, t.name.value, family, ranges, []);
      for (const r of ranges) this.claims.push({ kind: 'tenant-pool', owner: `tenant "${t.name.value}"`, tenant: t.name.value, range: r });
      pool.tenant = t.name.value;
      this.source(pool.id, t.span);
      poolsOut.push(pool);
      poolIds.push(pool.id);
    }
    const networks = unique(t.networks.map((n) => n.value));
    const tenant: I.IrTenant = { id, name: t.name.value, namespaces, isolation: t.isolation, pools: poolIds, networks, allowHostAccess: t.allowHostAccess };
    const ingressCap = this.rate(t.ingressCap);
    const egressCap = this.rate(t.egressCap);
    if (ingressCap !== undefined) tenant.ingressCap = ingressCap;
    if (egressCap !== undefined) tenant.egressCap = egressCap;
    return tenant;
  }

  private checkNamespaceOwnership(): void {
    const owner = new Map<string, A.TenantDecl>();
    for (const t of this.tenants.byName.values()) {
      if (t.namespaces.kind !== 'names') continue;
      for (const n of t.namespaces.names) {
        const prior = owner.get(n.value);
        if (prior) this.diagnostics.push(diag('NI2004', n.span, [n.value, prior.name.value, t.name.value], [{ span: prior.name.span, label: `tenant ${prior.name.value}` }]));
        else owner.set(n.value, t);
      }
    }
  }

  private policy(p: A.PolicyDecl): I.IrRule[] {
    const policyId = `policy:${p.name.value}`;
    this.source(policyId, p.span);
    if (!Number.isInteger(p.priority.value) || p.priority.value < 0 || p.priority.value > 65535) this.diagnostics.push(diag('NI4008', p.priority.span, [p.priority.value]));
    return p.rules.map((r, index) => {
      const id = `rule:${p.name.value}/${index}`;
      this.source(id, r.span);
      // Keys in canonical (sorted) order, as in `sourceRef`.
      const from = this.peers(r.from);
      const to = this.peers(r.to);
      const rule: I.IrRule = {
        action: r.action,
        from,
        id,
        index,
        log: r.log,
        origin: 'intent',
        policy: p.name.value,
        ports: this.ports(r.ports),
        priority: p.priority.value,
        tier: p.tier,
        to,
      };
      this.checkFqdnSources(r.from, rule.from);
      if (r.l7 && r.action !== 'allow') this.diagnostics.push(diag('NI5011', r.l7.span, [r.action]));
      if (r.l7) {
        const l7 = this.l7(r.l7, rule.ports);
        if (l7) rule.l7 = l7;
        if (r.l7.kafka.length && r.l4Only) this.diagnostics.push(diag('NI4010', r.span, [id.slice('rule:'.length)]));
      }
      if (r.l4Only) rule.l4Only = true;
      return rule;
    });
  }

  /** Whether a lowered group reaches an FQDN member, directly or through nested groups (which never form a cycle). */
  private reachesFqdn(id: string): boolean {
    let reaches = this.groupReachesFqdn.get(id);
    if (reaches === undefined) {
      reaches = (this.irGroups.get(id)?.members ?? []).some((m) => m.kind === 'fqdn' || (m.kind === 'group' && this.reachesFqdn(m.group)));
      this.groupReachesFqdn.set(id, reaches);
    }
    return reaches;
  }

  /** FQDN members reached through a rule's `from` (directly or through nested groups). */
  private checkFqdnSources(peers: readonly A.Peer[], ids: readonly string[]): void {
    if (!ids.some((id) => this.reachesFqdn(id))) return;
    const seen = new Set<string>();
    const fqdnOf = (id: string): string | undefined => {
      if (seen.has(id)) return undefined;
      seen.add(id);
      for (const m of this.irGroups.get(id)?.members ?? []) {
        if (m.kind === 'fqdn') return m.pattern;
        if (m.kind === 'group') {
          const nested = fqdnOf(m.group);
          if (nested) return nested;
        }
      }
      return undefined;
    };
    for (const id of ids) {
      const pattern = fqdnOf(id);
      if (!pattern) continue;
      const peer = peers.find((p) => (p.kind === 'group' ? `group:${p.name.value}` === id : p.kind === 'inline')) ?? peers[0]!;
      this.diagnostics.push(diag('NI5010', peer.span, [pattern]));
    }
  }

  private l7(c: A.L7Clause, ports: I.IrPort[]): I.IrL7 | undefined {
    const text = (t: A.Text | undefined): string | undefined => t?.value;
    const nonTcp = ports.filter((p) => p.protocol !== 'tcp');
    const kinds: [string, number][] = [
      ['HTTP', c.http.length],
      ['Kafka', c.kafka.length],
    ];
    for (const [kind, n] of kinds) {
      if (n && (ports.length === 0 || nonTcp.length)) {
        this.diagnostics.push(diag('NI4002', c.span, [kind, ports.length === 0 ? 'all protocols' : unique(nonTcp.map((p) => p.protocol)).join(', ')]));
      }
    }
    if (c.dns.length && (ports.length === 0 || ports.some((p) => p.protocol !== 'udp' && p.protocol !== 'tcp'))) {
      this.diagnostics.push(diag('NI4002', c.span, ['DNS', 'other than UDP/TCP port 53']));
    }
    const http = c.http.map((h): I.IrHttpMatch => {
      if (h.method && !HTTP_METHOD.test(h.method.value)) this.diagnostics.push(diag('NI4009', h.method.span, ['HTTP method', h.method.value, 'Methods are upper-case tokens like GET, POST, or * for any.']));
      if (h.path) {
        try {
          new RegExp(h.path.value);
        } catch (e) {
          this.diagnostics.push(diag('NI4007', h.path.span, [JSON.stringify(h.path.value), (e as Error).message.replace(/^Invalid regular expression: /, '')]));
        }
      }
      for (const hdr of h.headers) {
        if (!HEADER_NAME.test(hdr.name.value)) this.diagnostics.push(diag('NI4009', hdr.name.span, ['HTTP header name', hdr.name.value, 'Header names are RFC 9110 tokens.']));
        if (hdr.value && /[\r\n\0]/.test(hdr.value.value)) this.diagnostics.push(diag('NI4009', hdr.value.span, ['HTTP header value', hdr.value.value, 'Header values cannot contain CR, LF or NUL.']));
      }
      const m: I.IrHttpMatch = { headers: h.headers.map((x) => (x.value ? { name: x.name.value.toLowerCase(), value: x.value.value } : { name: x.name.value.toLowerCase() })).sort((a, b) => byString(a.name, b.name)) };
      if (h.method && h.method.value !== '*') m.method = h.method.value;
      if (h.path) m.path = h.path.value;
      if (h.host) m.host = h.host.value.toLowerCase();
      return m;
    });
    const kafka = c.kafka.map((k): I.IrKafkaMatch => {
      if (k.role && k.role.value !== 'produce' && k.role.value !== 'consume') this.diagnostics.push(diag('NI4009', k.role.span, ['Kafka role', k.role.value, 'Roles are produce and consume.']));
      const m: I.IrKafkaMatch = {};
      for (const key of ['role', 'apiKey', 'topic', 'clientId'] as const) {
        const v = text(k[key]);
        if (v !== undefined) m[key] = v;
      }
      return m;
    });
    const dns = c.dns.map((d): I.IrDnsMatch => {
      const m: I.IrDnsMatch = {};
      if (d.matchName) {
        if (!DNS_SUBDOMAIN.test(d.matchName.value.toLowerCase().replace(/\.$/, ''))) this.diagnostics.push(diag('NI4009', d.matchName.span, ['DNS name', d.matchName.value, 'Write a DNS name without wildcards; use a pattern for wildcards.']));
        m.matchName = d.matchName.value.toLowerCase();
      }
      if (d.matchPattern) {
        if (!FQDN_PATTERN.test(d.matchPattern.value.toLowerCase())) this.diagnostics.push(diag('NI4009', d.matchPattern.span, ['DNS pattern', d.matchPattern.value, 'Write a DNS name with "*" wildcards, or "*" for all names.']));
        m.matchPattern = d.matchPattern.value.toLowerCase();
      }
      return m;
    });
    return { http: sortByJson(http), kafka: sortByJson(kafka), dns: sortByJson(dns) };
  }

  /** Generated cross-tenant denies: admin tier for strict (nothing below reopens), baseline for default. */
  private isolationRules(tenants: I.IrTenant[]): I.IrRule[] {
    const rules: I.IrRule[] = [];
    for (const t of tenants) {
      if (t.isolation === 'none') continue;
      const inside = this.generatedGroup(`~tenant-${t.name}`, { kind: 'pods', scope: { kind: 'tenant', tenant: t.name }, selector: [] });
      const outside = this.generatedGroup(`~outside-${t.name}`, { kind: 'pods', scope: { kind: 'notTenant', tenant: t.name }, selector: [] });
      const tier: I.IrTier = t.isolation === 'strict' ? 'admin' : 'baseline';
      const policy = `~isolation-${t.name}`;
      const deny = (index: number, from: string, to: string): void => {
        const id = `rule:${policy}/${index}`;
        // Keys in canonical (sorted) order, as in `sourceRef`.
        rules.push({ action: 'deny', from: [from], id, index, log: false, origin: 'tenant-isolation', policy, ports: [], priority: 1000, tier, to: [to] });
        this.sources.set(id, this.sources.get(t.id) ?? []);
      };
      deny(0, outside, inside);
      deny(1, inside, outside);
    }
    return rules;
  }

  /** Groups the compiler makes itself; `~` keeps their names apart from user names. */
  private generatedGroup(name: string, member: I.IrMember): string {
    const id = `group:${name}`;
    this.irGroups.set(id, { id, members: [member], name });
    return id;
  }

  private range(r: A.AddressRange): LoweredRange | undefined {
    if (r.kind === 'ip') {
      const ip = this.ip({ value: r.text, span: r.span });
      if (!ip) return undefined;
      const c = parseCidr(`${ip}/${ip.includes(':') ? 128 : 32}`);
      return c.ok ? { family: c.family, interval: c.interval, span: r.span, text: r.text } : undefined;
    }
    if (r.kind === 'cidr') {
      const c = this.cidr({ value: r.text, span: r.span });
      if (!c) return undefined;
      const { first, last, family } = c.interval;
      // A CIDR pool never hands out its network address, nor the IPv4 broadcast address.
      const usable: Interval = {
        family,
        first: last - first >= 3n ? first + 1n : first,
        last: family === 4 && last - first >= 3n ? last - 1n : last,
      };
      return { family, interval: usable, span: r.span, text: r.text };
    }
    const [a, b] = r.text.split('-').map((s) => s.trim());
    const first = a ? canonicalIp(a) : undefined;
    const last = b ? canonicalIp(b) : undefined;
    if (!first || !last) {
      this.diagnostics.push(diag('NI3007', r.span, [a ?? '', b ?? '', 'both ends must be IP addresses']));
      return undefined;
    }
    const fc = parseCidr(`${first}/${first.includes(':') ? 128 : 32}`);
    const lc = parseCidr(`${last}/${last.includes(':') ? 128 : 32}`);
    if (!fc.ok || !lc.ok || fc.family !== lc.family) {
      this.diagnostics.push(diag('NI3007', r.span, [first, last, 'both ends must be of one IP family']));
      return undefined;
    }
    if (fc.interval.first > lc.interval.first) {
      this.diagnostics.push(diag('NI3007', r.span, [first, last, 'the first address is after the last']));
      return undefined;
    }
    return { family: fc.family, interval: { family: fc.family, first: fc.interval.first, last: lc.interval.first }, span: r.span, text: r.text };
  }

  private pool(p: A.PoolDecl): I.IrPool | undefined {
    const ranges = p.ranges.map((r) => this.range(r)).filter((r): r is LoweredRange => r !== undefined);
    if (!ranges.length) return undefined;
    const family = ranges[0]!.family;
    for (const r of ranges) {
      if (r.family !== family) this.diagnostics.push(diag('NI3007', r.span, [r.text, '', `pool "${p.name.value}" mixes IPv4 and IPv6; declare one pool per family`]));
    }
    const reserved = unique(p.reserved.map((t) => this.ip(t)).filter((x): x is string => !!x));
    const id = `pool:${p.name.value}`;
    this.source(id, p.span);
    const pool = makePool(id, p.name.value, family, ranges.filter((r) => r.family === family), reserved);
    pool.workload = { kind: p.workload.kind, namespace: this.namespaceName(p.workload.namespace), name: p.workload.name.value };
    const tenant = this.tenantOfNamespaceName(p.workload.namespace.value);
    if (tenant) pool.tenant = tenant;
    for (const r of ranges) this.claims.push({ kind: 'pool', owner: `pool "${p.name.value}"`, tenant, range: r });
    return pool;
  }

  /**
   * Every address has one owner: tenant pools of different tenants, workload pools and
   * fixed IPs never overlap; workload pools and fixed IPs stay inside their tenant's pools.
   * A sweep over claims sorted by first address keeps this O(n log n).
   */
  private checkAddressClaims(tenantPools: I.IrPool[]): void {
    const sorted = [...this.claims].sort((a, b) => a.range.family - b.range.family || (a.range.interval.first < b.range.interval.first ? -1 : a.range.interval.first > b.range.interval.first ? 1 : 0));
    const open: AddressClaim[] = [];
    for (const c of sorted) {
      for (let i = open.length - 1; i >= 0; i--) {
        const o = open[i]!;
        if (o.range.family !== c.range.family || o.range.interval.last < c.range.interval.first) open.splice(i, 1);
      }
      for (const o of open) {
        // A tenant's own pool contains its workload pools and fixed IPs by design.
        const nested = (o.kind === 'tenant-pool') !== (c.kind === 'tenant-pool') && o.tenant === c.tenant;
        if (nested) continue;
        const related = [{ span: o.range.span, label: `claimed by ${o.owner}` }];
        if (c.kind === 'fixed' || o.kind === 'fixed') {
          const fixed = c.kind === 'fixed' ? c : o;
          const other = fixed === c ? o : c;
          this.diagnostics.push(diag('NI3005', fixed.range.span, [fixed.range.text, fixed.owner, other.owner], [{ span: other.range.span, label: `claimed by ${other.owner}` }]));
        } else {
          this.diagnostics.push(diag('NI3006', c.range.span, [c.owner.replace(/^\w+ "|"$/g, ''), o.owner.replace(/^\w+ "|"$/g, ''), `${c.range.text} and ${o.range.text}`], related));
        }
      }
      open.push(c);
    }
    const tenantsWithPools = new Set(tenantPools.map((p) => p.tenant));
    const tenantPoolClaims = new Map<string | undefined, AddressClaim[]>();
    for (const c of this.claims) {
      if (c.kind !== 'tenant-pool') continue;
      const list = tenantPoolClaims.get(c.tenant);
      if (list) list.push(c);
      else tenantPoolClaims.set(c.tenant, [c]);
    }
    for (const c of this.claims) {
      if (c.kind === 'tenant-pool' || !c.tenant || !tenantsWithPools.has(c.tenant)) continue;
      const own = tenantPoolClaims.get(c.tenant) ?? [];
      if (!own.some((t) => intervalContains(t.range.interval, c.range.interval))) {
        this.diagnostics.push(diag('NI3004', c.range.span, [c.range.text, c.tenant, own.map((t) => t.range.text).join(', ')]));
      }
    }
  }

  /** Tenant owning a namespace by name (selector-owned namespaces are known only with an inventory). */
  private tenantOfNamespaceName(ns: string): string | undefined {
    if (!this.namespaceOwners) {
      this.namespaceOwners = new Map();
      for (const t of this.tenants.byName.values()) {
        if (t.namespaces.kind !== 'names') continue;
        for (const n of t.namespaces.names) if (!this.namespaceOwners.has(n.value)) this.namespaceOwners.set(n.value, t.name.value);
      }
    }
    return this.namespaceOwners.get(ns);
  }

  private fixedIp(f: A.FixedIpDecl): I.IrFixedIp | undefined {
    const ips = f.ips.map((t) => this.ip(t)).filter((x): x is string => !!x);
    const families = ips.map((ip) => (ip.includes(':') ? 6 : 4));
    if (new Set(families).size !== families.length) {
      this.diagnostics.push(diag('NI3007', f.span, [ips.join(', '), '', 'a pod gets at most one fixed IP per family']));
    }
    const key = `${this.namespaceName(f.namespace)}/${f.pod.value}`;
    const id = `fixed:${key}`;
    this.source(id, f.span);
    const out: I.IrFixedIp = { id, ips: unique(ips), namespace: f.namespace.value, pod: f.pod.value };
    const tenant = this.tenantOfNamespaceName(f.namespace.value);
    if (tenant) out.tenant = tenant;
    f.ips.forEach((text) => {
      const range = this.range({ kind: 'ip', text: text.value, span: text.span });
      if (range) this.claims.push({ kind: 'fixed', owner: `pod ${key}`, tenant, range });
    });
    return ips.length ? out : undefined;
  }

  private gateway(g: A.EgressGatewayDecl): I.IrEgressGateway {
    const id = `egress:${g.name.value}`;
    this.source(id, g.span);
    const destinations = g.destinations.map((t) => ({ t, c: this.cidr(t) }));
    const except: string[] = [];
    for (const e of g.except) {
      const c = this.cidr(e);
      if (!c) continue;
      const inside = destinations.some((d) => d.c && intervalContains(d.c.interval, c.interval));
      if (!inside) this.diagnostics.push(diag('NI3003', e.span, [c.canonical, destinations.map((d) => d.t.value).join(', ') || '(no destination)']));
      else except.push(c.canonical);
    }
    const gw: I.IrEgressGateway = {
      id,
      name: g.name.value,
      pods: this.podPeers(g.pods, `egress gateway "${g.name.value}"`),
      destinations: unique(destinations.map((d) => d.c?.canonical).filter((x): x is string => !!x)),
      except: unique(except),
      nodes: g.nodes.map((n) => n.value),
      egressIps: unique(g.egressIps.map((t) => this.ip(t)).filter((x): x is string => !!x)),
    };
    if (new Set(gw.nodes).size !== gw.nodes.length) this.diagnostics.push(diag('NI2002', g.span, ['gateway node', gw.nodes.find((n, i) => gw.nodes.indexOf(n) !== i)!]));
    if (g.nodeSelector) gw.nodeSelector = this.selector(g.nodeSelector);
    if (!g.nodeSelector && !g.nodes.length) this.diagnostics.push(diag('NI4009', g.name.span, ['egress gateway', g.name.value, 'Name the gateway nodes: `nodes gw-1, gw-2` or `nodes where role = egress`.']));
    if (!gw.egressIps.length && !g.egressIps.length) this.diagnostics.push(diag('NI4009', g.name.span, ['egress gateway', g.name.value, 'Give the source address: `egress-ip 192.0.2.10`.']));
    return gw;
  }

  private rateLimit(r: A.RateLimitDecl, tenants: I.IrTenant[]): I.IrRateLimit {
    const id = `rate:${r.name.value}`;
    this.source(id, r.span);
    const out: I.IrRateLimit = { id, name: r.name.value, pods: this.podPeers(r.pods, `rate limit "${r.name.value}"`) };
    const ingress = this.rate(r.ingress);
    const egress = this.rate(r.egress);
    if (ingress !== undefined) out.ingressBps = ingress;
    if (egress !== undefined) out.egressBps = egress;
    for (const [key, d] of [
      ['latencyUs', r.latency],
      ['jitterUs', r.jitter],
    ] as const) {
      if (!d) continue;
      if (!Number.isFinite(d.us) || d.us < 0 || d.us > 60_000_000) this.diagnostics.push(diag('NI4005', d.span, [key === 'latencyUs' ? 'latency' : 'jitter', d.text, 'must be between 0 and 60s']));
      else out[key] = Math.round(d.us);
    }
    if (r.jitter && !r.latency) this.diagnostics.push(diag('NI4005', r.jitter.span, ['jitter', r.jitter.text, 'jitter needs a latency']));
    if (r.loss) {
      if (!(r.loss.value >= 0 && r.loss.value <= 100)) this.diagnostics.push(diag('NI4005', r.loss.span, ['loss', r.loss.text, 'must be between 0% and 100%']));
      else out.lossPercent = r.loss.value;
    }
    // Caps apply when the rate's pods all sit in one tenant's namespaces.
    const tenantName = this.singleTenantOf(out.pods);
    const tenant = tenants.find((t) => t.name === tenantName);
    if (tenant) {
      for (const [bps, cap, rate] of [
        [ingress, tenant.ingressCap, r.ingress],
        [egress, tenant.egressCap, r.egress],
      ] as const) {
        if (bps !== undefined && cap !== undefined && bps > cap && rate) this.diagnostics.push(diag('NI4011', rate.span, [rate.text, formatBps(cap), tenant.name]));
      }
    }
    return out;
  }

  private singleTenantOf(groupIds: string[]): string | undefined {
    const owners = new Set<string | undefined>();
    const visit = (id: string): void => {
      for (const m of this.irGroups.get(id)?.members ?? []) {
        if (m.kind === 'group') visit(m.group);
        else if (m.kind === 'pods') {
          if (m.scope.kind === 'tenant') owners.add(m.scope.tenant);
          else if (m.scope.kind === 'names') for (const n of m.scope.names) owners.add(this.tenantOfNamespaceName(n));
          else owners.add(undefined);
        }
      }
    };
    groupIds.forEach(visit);
    return owners.size === 1 ? [...owners][0] : undefined;
  }

  private networkPolicy(n: A.NetworkPolicyDecl): I.IrNetworkPolicy {
    const namespace = this.namespaceName(n.namespace);
    const id = `np:${namespace}/${n.name.value}`;
    this.source(id, n.span);
    const rules = (list: A.NetpolRule[]): I.IrNetpolRule[] =>
      list.map((r) => ({
        // Peers are a union: their order carries no meaning, so the IR sorts them.
        peers: r.peers.length === 0 ? null : sortByJson(r.peers.map((p) => this.netpolPeer(p)).filter((p): p is I.IrNetpolPeer => p !== undefined)),
        ports: r.ports.length === 0 ? null : this.ports(r.ports),
      }));
    return {
      id,
      namespace,
      name: n.name.value,
      podSelector: this.selector(n.podSelector),
      policyTypes: (['Ingress', 'Egress'] as const).filter((t) => n.policyTypes.includes(t)),
      ingress: rules(n.ingress),
      egress: rules(n.egress),
    };
  }

  private netpolPeer(p: A.NetpolPeer): I.IrNetpolPeer | undefined {
    if (p.kind === 'ipBlock') {
      const m = this.member({ kind: 'cidr', cidr: p.cidr, except: p.except, span: p.span }, []);
      return m && m.kind === 'cidr' ? { kind: 'ipBlock', cidr: m.cidr, except: m.except } : undefined;
    }
    const peer: I.IrNetpolPeer = { kind: 'pods', podSelector: p.podSelector ? this.selector(p.podSelector) : [] };
    if (p.namespaceSelector) peer.namespaceSelector = this.selector(p.namespaceSelector);
    return peer;
  }
}

interface AddressClaim {
  kind: 'tenant-pool' | 'pool' | 'fixed';
  owner: string;
  tenant: string | undefined;
  range: LoweredRange;
}

interface LoweredRange {
  family: 4 | 6;
  interval: Interval;
  span: Span;
  text: string;
}


function makePool(id: string, name: string, family: 4 | 6, ranges: LoweredRange[], reserved: string[]): I.IrPool {
  const sorted = [...ranges].sort((a, b) => (a.interval.first < b.interval.first ? -1 : a.interval.first > b.interval.first ? 1 : 0));
  let size = 0n;
  for (const r of sorted) size += r.interval.last - r.interval.first + 1n;
  const reservedInside = reserved.filter((ip) => sorted.some((r) => {
    const c = parseCidr(`${ip}/${family === 4 ? 32 : 128}`);
    return c.ok && intervalContains(r.interval, c.interval);
  }));
  size -= BigInt(reservedInside.length);
  return {
    id,
    name,
    family,
    ranges: sorted.map((r) => ({ first: bigIntToIp(r.interval.first, family), last: bigIntToIp(r.interval.last, family) })),
    reserved,
    size: size > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(size),
  };
}


export function formatBps(bps: number): string {
  if (bps % 1e9 === 0) return `${bps / 1e9}G`;
  if (bps % 1e6 === 0) return `${bps / 1e6}M`;
  if (bps % 1e3 === 0) return `${bps / 1e3}k`;
  return `${bps}`;
}

const byId = (a: { id: string }, b: { id: string }): number => byString(a.id, b.id);

export function comparePorts(a: I.IrPort, b: I.IrPort): number {
  return (
    byString(a.protocol, b.protocol) ||
    (a.port ?? -1) - (b.port ?? -1) ||
    (a.endPort ?? -1) - (b.endPort ?? -1) ||
    byString(a.name ?? '', b.name ?? '') ||
    (a.icmpType ?? -1) - (b.icmpType ?? -1) ||
    (a.icmpCode ?? -1) - (b.icmpCode ?? -1)
  );
}

function compareRules(a: I.IrRule, b: I.IrRule): number {
  return TIERS.indexOf(a.tier) - TIERS.indexOf(b.tier) || a.priority - b.priority || byString(a.policy, b.policy) || a.index - b.index;
}

/** Sorted by canonical JSON, duplicates dropped: for lists whose order carries no meaning. */
function sortByJson<T>(list: readonly T[]): T[] {
  if (list.length < 2) return [...list];
  const keyed = list.map((x) => [canonicalJson(x), x] as const).sort((a, b) => byString(a[0], b[0]));
  return keyed.filter((k, i) => i === 0 || keyed[i - 1]![0] !== k[0]).map(([, x]) => x);
}
