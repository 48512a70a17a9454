/**
 * IR + inventory → the nftables model for one node.
 *
 * Shape (table `inet netintent`):
 *   forward (base) : ct established,related accept · ct invalid drop ·
 *                    ip saddr vmap @pod_egress4 (local pod IP → goto its egress profile) ·
 *                    ip daddr vmap @pod_ingress4 (local pod IP → goto its ingress profile) · v6 alike
 *   p_<hash>       : one profile per distinct rule list; jumps the tier chains in order,
 *                    then accepts (no rule matched → allow)
 *   t_<hash>       : one tier's rules for that profile, first match wins; pass = return
 *   np             : NetworkPolicies, at the end of the application tier: the source's
 *                    egress (@np_egress*) then the destination's ingress (@np_ingress*)
 *                    for pods of this node; for pods of other nodes only whether they are
 *                    isolated (@remote_*_isolated*), since their own node enforces them
 *   npe_/npi_<hash>: the allow-list of an isolated pod (shared by pods with the same one)
 * Each connection is decided in full on every node that forwards it, from the same data,
 * so the nodes of the client and the server agree (the two-node lab checks it).
 * Sets: pod/service IPs in hash sets, CIDRs (excepts subtracted exactly) in interval sets,
 * named ports in `addr . proto . port` sets, `notTenant` members as a complement.
 * Names derive from content (hash of a group id, peer, or chain body), never counters.
 */
import { diag, type Diagnostic } from '../../diagnostics/diagnostic.js';
import { spanOfSource } from '../../diagnostics/span.js';
import type { Ir, IrMember, IrNetworkPolicy, IrPort, IrRule, IrTier } from '../../ir/types.js';
import { canonicalJson } from '../../ir/canonical.js';
import type { Inventory, InventoryPod } from '../../inventory/index.js';
import { familyOf, ipToBigInt, type Family } from '../../ir/address.js';
import { EVERYTHING, everyPodAddress, netpolPeerMember, SelectorResolver, setContains, rangeToCidrs, type AddressSet } from '../../resolve/index.js';
import { comment, sortElements, type NftChain, type NftRuleset, type NftSet } from './model.js';
import { shortHash } from '../../ir/canonical.js';

const TIERS: readonly IrTier[] = ['admin', 'tenant', 'application', 'baseline'];
const TARGET = 'nftables';

export type Direction = 'egress' | 'ingress';
type PodsMember = Extract<IrMember, { kind: 'pods' }>;

/** Leaf members (groups flattened) whose union is an address set; `any`: every address. */
export interface MemberUnion {
  any: boolean;
  members: readonly IrMember[];
}

/**
 * What fills a set that follows the pods, recorded for incremental updates (which recompute
 * the elements of the addresses that changed); sets fixed by the intents and the nodes
 * (node addresses, CIDR interval sets) have none.
 */
export type SetSource =
  /** The pod and service IPs of these members. */
  | { kind: 'hosts'; family: Family; members: readonly IrMember[] }
  /** `addr . proto . port` of the pods in `peer` that declare the named port. */
  | { kind: 'namedPorts'; family: Family; peer: MemberUnion; name: string; protocol: string }
  /** pod_<dir><f>: each local pod IP → its profile chain. */
  | { kind: 'profiles'; dir: Direction; family: Family }
  /** np_<dir><f>: each local isolated pod IP → its NetworkPolicy allow-list chain. */
  | { kind: 'allowLists'; dir: Direction; family: Family }
  /** remote_<dir>_isolated<f>: isolated pod IPs of other nodes. */
  | { kind: 'remoteIsolated'; dir: Direction; family: Family };

/**
 * One side of a rule as it is written: members in the side's own sets (`plain`), and members
 * scoped outside a tenant as `everywhere` minus `inside` (complements).
 */
export interface SideParts {
  any: boolean;
  plain: readonly IrMember[];
  complements: readonly { member: PodsMember; everywhere: PodsMember; inside: PodsMember; tenant: string }[];
}

/** The peer a named port is looked up on: the pods in it that declare the port. */
interface NamedPortPeer {
  key: string;
  union: MemberUnion;
  set(): AddressSet;
}

/** Local pod addresses with the same rules (and, for ingress, the same named ports) share one profile chain. */
export function profileKey(dir: Direction, family: Family, rules: readonly IrRule[], pod: InventoryPod): string {
  return `${dir}|${family}|${rules.map((r) => r.id).join(',')}|${dir === 'ingress' ? JSON.stringify(pod.ports) : ''}`;
}

/** Pods isolated by the same policies (with the same named ports, for ingress) share one allow-list chain. */
export function allowListKey(dir: 'Egress' | 'Ingress', family: Family, policies: readonly IrNetworkPolicy[], pod: InventoryPod): string {
  return `${dir}|${family}|${policies.map((n) => n.id).join(',')}|${dir === 'Ingress' ? JSON.stringify(pod.ports) : ''}`;
}

/** The key of a union of groups (one side of a rule), as set names and caches use it. */
function unionKey(groupIds: readonly string[]): string {
  return `u:${[...new Set(groupIds)].sort().join(',')}`;
}

const ipKw = (f: Family): string => (f === 4 ? 'ip' : 'ip6');
const addrType = (f: Family): string => (f === 4 ? 'ipv4_addr' : 'ipv6_addr');

/** A port clause; `pinsAddress` when it already names the peer address (named-port concat set). */
interface PortMatch {
  expr: string;
  pinsAddress: boolean;
}

function sourceText(ir: Ir, id: string): string {
  const ref = ir.sources[id]?.[0];
  return ref ? `${ref.file}:${ref.line}` : '';
}

function verdictOf(action: IrRule['action']): string {
  switch (action) {
    case 'allow':
      return 'accept';
    case 'deny':
      return 'drop';
    case 'reject':
      return 'reject with icmpx admin-prohibited';
    case 'pass':
      return 'return';
  }
}

/** `ni:<short id> `: letters the log prefix can carry, short enough to read in dmesg. */
function logPrefix(ruleId: string): string {
  const short = ruleId.replace(/^rule:/, '').replace(/[^A-Za-z0-9._/~:-]/g, '_');
  return `ni:${short.length > 24 ? `${short.slice(0, 15)}~${shortHash(short).slice(0, 8)}` : short} `;
}

function peerText(np: IrNetworkPolicy, peer: IrNetworkPolicy['ingress'][number]['peers']): string {
  if (peer === null) return 'all peers';
  return peer
    .map((p) =>
      p.kind === 'ipBlock'
        ? `ipBlock ${p.cidr}${p.except.length ? ` except ${p.except.join(',')}` : ''}`
        : `pods ${p.namespaceSelector ? `ns{${p.namespaceSelector.map((r) => `${r.key} ${r.op} ${r.values.join('|')}`).join(',')}}` : `ns ${np.namespace}`} pod{${p.podSelector.map((r) => `${r.key} ${r.op} ${r.values.join('|')}`).join(',')}}`,
    )
    .join(' or ');
}

/** Hooks for the L7 proxies of src/backends/l7, which enforce what nftables alone cannot. */
export interface NodeRulesetOptions {
  l7?: {
    /** Name of the DNS-fed set (timeout flag) holding the addresses of an FQDN pattern. */
    fqdnSet(pattern: string, family: Family): string;
  };
}

export class NodeRulesetBuilder {
  readonly ruleset: NftRuleset = { sets: new Map(), chains: new Map() };
  readonly diagnostics: Diagnostic[] = [];
  /** What fills each set that follows the pods (see SetSource). */
  readonly setSources = new Map<string, SetSource>();
  /** profileKey → profile chain, allowListKey → allow-list chain: every chain a local pod address was sent to. */
  readonly profileChains = new Map<string, string>();
  readonly allowListChains = new Map<string, string>();
  /** profileKey or allowListKey → how many local (pod, address) pairs use it: the chains and sets exist for these keys. */
  readonly chainUses = new Map<string, number>();
  readonly resolver: SelectorResolver;
  /** Rules in evaluation order (tier, then the IR's priority order); policies by id. */
  readonly rules: IrRule[];
  readonly policies: IrNetworkPolicy[];
  private readonly sideCache = new Map<string, string[]>();
  private readonly sidePartsCache = new Map<string, SideParts>();

  constructor(
    private readonly ir: Ir,
    private readonly inventory: Inventory,
    private readonly nodeName: string,
    private readonly options: NodeRulesetOptions = {},
  ) {
    this.resolver = new SelectorResolver(ir, inventory);
    // Tier order, array order inside a tier (the IR's priority order).
    this.rules = TIERS.flatMap((t) => ir.rules.filter((r) => r.tier === t));
    this.policies = [...ir.networkPolicies].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  build(): { ruleset: NftRuleset; diagnostics: Diagnostic[] } {
    const node = this.inventory.nodes.find((n) => n.name === this.nodeName);
    if (!node) this.diagnostics.push(diag('NI6003', undefined, [this.nodeName, this.inventory.nodes.map((n) => n.name).join(', ') || '(none)']));
    this.checkEnforceable();
    for (const f of [4, 6] as const) {
      this.addSet({ name: `node_ips${f}`, kind: 'set', type: addrType(f), interval: false, comment: `addresses of node ${this.nodeName}`, elements: (node?.addresses ?? []).filter((a) => familyOf(a) === f) });
      for (const dir of ['egress', 'ingress'] as const) {
        this.addSet({ name: `pod_${dir}${f}`, kind: 'map', type: `${addrType(f)} : verdict`, interval: false, comment: `${dir} profile of each pod IP on node ${this.nodeName}`, elements: [] }, { kind: 'profiles', dir, family: f });
        this.addSet({ name: `np_${dir}${f}`, kind: 'map', type: `${addrType(f)} : verdict`, interval: false, comment: `NetworkPolicy ${dir} allow-list of each ${dir}-isolated pod IP of node ${this.nodeName}`, elements: [] }, { kind: 'allowLists', dir, family: f });
      }
    }
    this.ruleset.chains.set('forward', {
      name: 'forward',
      hook: 'type filter hook forward priority filter; policy accept;',
      rules: [
        `ct state established,related accept ${comment('replies and continuations of allowed connections')}`,
        `ct state invalid drop ${comment('not part of any known connection')}`,
        ...([4, 6] as const).flatMap((f) => [
          `${ipKw(f)} saddr vmap @pod_egress${f} ${comment(`connections opened by pods of node ${this.nodeName}`)}`,
          `${ipKw(f)} daddr vmap @pod_ingress${f} ${comment(`connections to pods of node ${this.nodeName}`)}`,
        ]),
      ],
    });
    this.buildNetworkPolicies();
    // Which rules concern each local pod IP, by direction: computed once per distinct rule
    // side (the members of a side are tested against the few local IPs, not all pods).
    const local = this.inventory.pods.filter((p) => p.nodeName === this.nodeName && !p.hostNetwork).flatMap((pod) => everyPodAddress(pod).map((ip) => ({ pod, ip, value: ipToBigInt(ip) })));
    const sideMembers = new Map<string, string[]>();
    const membersOf = (ids: readonly string[]): string[] => {
      const key = [...new Set(ids)].sort().join(',');
      let members = sideMembers.get(key);
      if (!members) {
        const contains = this.sideContains(ids);
        sideMembers.set(key, (members = local.filter((l) => contains(l.ip, l.value)).map((l) => l.ip)));
      }
      return members;
    };
    const rulesOf = { egress: new Map<string, IrRule[]>(), ingress: new Map<string, IrRule[]>() };
    for (const rule of this.rules) {
      for (const dir of ['egress', 'ingress'] as const) {
        for (const ip of membersOf(dir === 'egress' ? rule.from : rule.to)) {
          const list = rulesOf[dir].get(ip);
          if (list) list.push(rule);
          else rulesOf[dir].set(ip, [rule]);
        }
      }
    }
    for (const { pod, ip } of local) {
      for (const dir of ['egress', 'ingress'] as const) {
        const profile = this.profileChain(pod, ip, dir, rulesOf[dir].get(ip) ?? []);
        this.ruleset.sets.get(`pod_${dir}${familyOf(ip)}`)!.elements.push(`${ip} : goto ${profile}`);
      }
    }
    for (const set of this.ruleset.sets.values()) set.elements = sortElements(set.elements);
    return { ruleset: this.ruleset, diagnostics: this.diagnostics };
  }

  private checkEnforceable(): void {
    for (const rule of this.rules) {
      // Kafka has no proxy on the node: an error, never a silent downgrade to the port.
      if (rule.l7 && !rule.l4Only && rule.l7.kafka.length) this.diagnostics.push(diag('NI8301', spanOfSource(this.ir.sources[rule.id]?.[0]), [TARGET, rule.id.replace(/^rule:/, '')]));
      if (rule.l7 && !rule.l4Only && !this.options.l7 && (rule.l7.http.length || rule.l7.dns.length)) {
        this.diagnostics.push(diag('NI5001', undefined, [TARGET, 'the L7 clause', rule.id, 'nftables matches L3/L4 only; route the rule through an L7 proxy target or mark it `l4-only`.']));
      }
      const unresolved = new Set(
        this.resolver
          .flatMembers([...rule.from, ...rule.to])
          // FQDN peers are the L7 back end's when it is in use (DNS-fed sets).
          .members.filter((m) => (m.kind === 'fqdn' && !this.options.l7) || ((m.kind === 'pods' || m.kind === 'service') && m.cluster !== undefined))
          .flatMap((m) => this.resolver.member(m).unresolved),
      );
      for (const what of [...unresolved].sort()) {
        this.diagnostics.push(diag('NI5020', undefined, [TARGET, what, rule.id, 'FQDN peers need DNS-fed sets and remote-cluster peers need the other cluster\'s inventory.']));
      }
    }
  }

  private addSet(set: NftSet, source?: SetSource): void {
    if (this.ruleset.sets.has(set.name)) return;
    this.ruleset.sets.set(set.name, set);
    if (source) this.setSources.set(set.name, source);
  }

  /** Adds a chain named after its body; identical bodies share one chain. */
  private addChain(prefix: string, rules: string[]): string {
    const name = `${prefix}_${shortHash(rules.join('\n'))}`;
    if (!this.ruleset.chains.has(name)) this.ruleset.chains.set(name, { name, rules } satisfies NftChain);
    return name;
  }

  /**
   * Named sets for an address set in one family: pod/service IPs in a hash set (when
   * `hostMembers`, the members that fill it, are given), CIDR ranges (excepts already
   * subtracted, so unions stay exact) in an interval set.
   * Returns the match expressions; [''] for "any address", [] for "none".
   */
  private addressMatches(prefix: string, key: string, set: AddressSet, hostMembers: readonly IrMember[] | undefined, family: Family, field: 'saddr' | 'daddr', what: string): string[] {
    if (set.any) return [''];
    const base = `${prefix}_${shortHash(key)}`;
    const out: string[] = [];
    if (hostMembers) {
      const name = `${base}_h${family}`;
      if (!this.ruleset.sets.has(name)) this.addSet({ name, kind: 'set', type: addrType(family), interval: false, comment: `${what}: pod and service IPs`, elements: [...set.hosts].filter((h) => familyOf(h) === family) }, { kind: 'hosts', family, members: hostMembers });
      out.push(`${ipKw(family)} ${field} @${name}`);
    }
    // Destinations named by DNS: the addresses dnsmasq learnt for them (src/backends/l7).
    if (this.options.l7 && field === 'daddr') {
      for (const u of set.unresolved) if (u.startsWith('fqdn ')) out.push(`${ipKw(family)} daddr @${this.options.l7.fqdnSet(u.slice('fqdn '.length), family)}`);
    }
    const ranges = set.ranges.filter((r) => r.family === family);
    if (ranges.length > 0) {
      const name = `${base}_r${family}`;
      if (!this.ruleset.sets.has(name)) this.addSet({ name, kind: 'set', type: addrType(family), interval: true, comment: `${what}: CIDRs`, elements: ranges.flatMap(rangeToCidrs) });
      out.push(`${ipKw(family)} ${field} @${name}`);
    }
    return out;
  }

  /**
   * One side of a rule split the way it is written: members scoped to the namespaces
   * *outside* a tenant become a complement, `@pods-anywhere` and `!= @pods-of-tenant`,
   * instead of listing nearly every pod of the cluster once per tenant. Depends on the IR only.
   */
  sideParts(groupIds: readonly string[]): SideParts {
    const key = unionKey(groupIds);
    let parts = this.sidePartsCache.get(key);
    if (!parts) {
      const { any, members } = this.resolver.flatMembers(groupIds);
      const isComplement = (m: IrMember): m is PodsMember => m.kind === 'pods' && m.scope.kind === 'notTenant' && m.cluster === undefined;
      const complements = members.filter(isComplement).map((member) => {
        const tenant = (member.scope as { tenant: string }).tenant;
        return { member, everywhere: { ...member, scope: { kind: 'all' } } as PodsMember, inside: { ...member, scope: { kind: 'tenant', tenant } } as PodsMember, tenant };
      });
      this.sidePartsCache.set(key, (parts = { any, plain: members.filter((m) => !isComplement(m)), complements }));
    }
    return parts;
  }

  /** Membership test for one side of a rule, without materialising complements (nearly every pod, once per tenant). */
  private sideContains(groupIds: readonly string[]): (ip: string, value: bigint) => boolean {
    const parts = this.sideParts(groupIds);
    if (parts.any) return () => true;
    const plain = this.resolver.memberUnion(parts.plain);
    const complements = parts.complements.map((c) => ({ everywhere: this.resolver.member(c.everywhere), inside: this.resolver.member(c.inside) }));
    return (ip, value) => setContains(plain, ip, value) || complements.some((c) => setContains(c.everywhere, ip, value) && !setContains(c.inside, ip, value));
  }

  /**
   * Address clauses for one side of a rule (a union of groups), ORed as separate lines:
   * the side's own hash/interval sets, and its complements (see sideParts). The choice
   * depends on the IR only, so pod churn never changes the chains.
   */
  private sideMatches(groupIds: readonly string[], family: Family, field: 'saddr' | 'daddr', what: string): string[] {
    const key = unionKey(groupIds);
    const cacheKey = `${key}|${family}|${field}`;
    const cached = this.sideCache.get(cacheKey);
    if (cached) return cached;
    const out = this.sideMatchesUncached(key, groupIds, family, field, what);
    this.sideCache.set(cacheKey, out);
    return out;
  }

  private sideMatchesUncached(key: string, groupIds: readonly string[], family: Family, field: 'saddr' | 'daddr', what: string): string[] {
    const { any, plain, complements } = this.sideParts(groupIds);
    if (any) return [''];
    const out = plain.length > 0 ? this.addressMatches('g', key, this.resolver.memberUnion(plain), plain.some((m) => m.kind === 'pods' || m.kind === 'service') ? plain : undefined, family, field, what) : [];
    for (const { member: m, everywhere, inside, tenant } of complements) {
      const podsText = `pods{${m.selector.map((r) => `${r.key} ${r.op} ${r.values.join('|')}`).join(',')}}${m.network ? ` on ${m.network}` : ''}`;
      const [all] = this.addressMatches('m', canonicalJson(everywhere), this.resolver.member(everywhere), [everywhere], family, field, `${podsText} in every namespace`);
      const [own] = this.addressMatches('m', canonicalJson(inside), this.resolver.member(inside), [inside], family, field, `${podsText} of tenant ${tenant}`);
      out.push(`${all} ${own!.replace(' @', ' != @')}`);
    }
    return out;
  }

  /**
   * Port clauses of a rule. Named ports resolve on the destination pod: on the fixed
   * local pod for ingress profiles, through an `addr . proto . port` set otherwise.
   */
  private portMatches(ports: readonly IrPort[] | null, family: Family, dstPod: InventoryPod | undefined, peer: NamedPortPeer, what: string): PortMatch[] {
    if (ports === null || ports.length === 0) return [{ expr: '', pinsAddress: false }];
    const out: PortMatch[] = [];
    const numeric = new Map<string, string[]>();
    const allOf = new Set<string>();
    for (const p of ports) {
      switch (p.protocol) {
        case 'any':
          return [{ expr: '', pinsAddress: false }];
        case 'icmp':
        case 'icmpv6': {
          if ((p.protocol === 'icmp') !== (family === 4)) break; // ICMPv4 never crosses an IPv6 flow and vice versa
          const kw = p.protocol;
          out.push({ expr: p.icmpType === undefined ? `meta l4proto ${kw}` : `${kw} type ${p.icmpType}${p.icmpCode === undefined ? '' : ` ${kw} code ${p.icmpCode}`}`, pinsAddress: false });
          break;
        }
        default: {
          const proto = p.protocol;
          if (p.name !== undefined) {
            if (dstPod) {
              for (const cp of dstPod.ports) if (cp.name === p.name && cp.protocol === proto) numeric.set(proto, [...(numeric.get(proto) ?? []), String(cp.port)]);
            } else {
              const name = `n_${shortHash(`${peer.key}|${proto}/${p.name}`)}_${family}`;
              if (!this.ruleset.sets.has(name)) {
                const elements = this.resolver.namedPortTargets(peer.key, peer.set(), p.name, proto).filter((e) => familyOf(e.split(' ')[0]!) === family);
                this.addSet({ name, kind: 'set', type: `${addrType(family)} . inet_proto . inet_service`, interval: false, comment: `${what}: pods with port ${proto}/${p.name}`, elements }, { kind: 'namedPorts', family, peer: peer.union, name: p.name, protocol: proto });
              }
              out.push({ expr: `${ipKw(family)} daddr . meta l4proto . th dport @${name}`, pinsAddress: true });
            }
          } else if (p.port === undefined) allOf.add(proto);
          else numeric.set(proto, [...(numeric.get(proto) ?? []), p.endPort !== undefined && p.endPort !== p.port ? `${p.port}-${p.endPort}` : String(p.port)]);
        }
      }
    }
    for (const proto of [...new Set([...numeric.keys(), ...allOf])].sort()) {
      if (allOf.has(proto)) out.push({ expr: `meta l4proto ${proto}`, pinsAddress: false });
      else {
        const list = [...new Set(numeric.get(proto))].sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
        out.push({ expr: `${proto} dport ${list.length === 1 ? list[0] : `{ ${list.join(', ')} }`}`, pinsAddress: false });
      }
    }
    return out;
  }

  /** Address × port lines with the verdict (and a rate-limited log line before it). */
  private lines(addrs: string[], ports: PortMatch[], verdict: string, note: string, log?: string): string[] {
    if (addrs.length === 0) return []; // no address of this family can match
    const out: string[] = [];
    for (const port of ports) {
      for (const addr of port.pinsAddress ? [''] : addrs) {
        const match = [addr, port.expr].filter(Boolean).join(' ');
        const prefix = match ? `${match} ` : '';
        if (log) out.push(`${prefix}limit rate 10/second log prefix "${log}" ${comment(note)}`);
        out.push(`${prefix}${verdict} ${comment(note)}`);
      }
    }
    return out;
  }

  /** The chain deciding connections opened by (egress) or to (ingress) one local pod IP, given the rules whose own side holds it. */
  private profileChain(pod: InventoryPod, ip: string, dir: Direction, rules: readonly IrRule[]): string {
    const family = familyOf(ip);
    const cacheKey = profileKey(dir, family, rules, pod);
    this.chainUses.set(cacheKey, (this.chainUses.get(cacheKey) ?? 0) + 1);
    const cached = this.profileChains.get(cacheKey);
    if (cached) return cached;
    const field = dir === 'egress' ? 'daddr' : 'saddr';
    const body: string[] = [];
    if (dir === 'ingress') body.push(`${ipKw(family)} saddr @node_ips${family} accept ${comment("the pod's own node may always reach it")}`);
    for (const tier of TIERS) {
      const tierRules: string[] = [];
      for (const rule of rules) {
        if (rule.tier !== tier) continue;
        const peerIds = dir === 'egress' ? rule.to : rule.from;
        // Resolved only for named ports toward varying destinations (a complement side would be nearly every pod).
        const peer: NamedPortPeer = { key: unionKey(peerIds), union: this.resolver.flatMembers(peerIds), set: () => this.resolver.groupUnion(peerIds) };
        const note = `${rule.id} ${sourceText(this.ir, rule.id)}`.trim();
        const groupsText = [...new Set(peerIds)].sort().map((g) => g.replace(/^group:/, '')).join(',');
        const addrs = this.sideMatches(peerIds, family, field, `groups ${groupsText}`);
        const dstPod = dir === 'ingress' ? pod : undefined;
        const ports = this.portMatches(rule.ports, family, dstPod, peer, `groups ${groupsText}`);
        tierRules.push(...this.lines(addrs, ports, verdictOf(rule.action), note, rule.log ? logPrefix(rule.id) : undefined));
      }
      if (tier === 'application') tierRules.push(`jump np ${comment('Kubernetes NetworkPolicies close the application tier')}`);
      if (tierRules.length > 0) body.push(`jump ${this.addChain('t', tierRules)} ${comment(`tier ${tier}`)}`);
    }
    body.push(`accept ${comment('no rule matched: allow')}`);
    const name = this.addChain('p', body);
    this.profileChains.set(cacheKey, name);
    return name;
  }

  /**
   * NetworkPolicies, upstream semantics: a pod selected by a policy of a type is isolated
   * in that direction and needs a rule of one of those policies to admit the peer and port.
   */
  private buildNetworkPolicies(): void {
    const families = [4, 6] as const;
    const vmaps = (field: 'saddr' | 'daddr', dir: Direction): string[] =>
      families.map((f) => `${ipKw(f)} ${field} vmap @np_${dir}${f} ${comment(`${dir} allow-list of the ${field === 'saddr' ? 'source' : 'destination'} pod of this node, if isolated`)}`);
    // A pod of another node is enforced by that node's own allow-list (its node sees the
    // packet too); here only its isolation matters, since isolation skips the baseline tier.
    const remote = (field: 'saddr' | 'daddr', dir: Direction, verdict: string): string[] =>
      families.map((f) => `${ipKw(f)} ${field} @remote_${dir}_isolated${f} ${verdict} ${comment(`${dir}-isolated pod of another node: that node enforces its allow-list`)}`);
    for (const f of families) {
      for (const dir of ['egress', 'ingress'] as const) {
        this.addSet({ name: `remote_${dir}_isolated${f}`, kind: 'set', type: addrType(f), interval: false, comment: `${dir}-isolated pod IPs on other nodes`, elements: [] }, { kind: 'remoteIsolated', dir, family: f });
      }
    }
    this.ruleset.chains.set('np', { name: 'np', rules: [...vmaps('saddr', 'egress'), ...remote('saddr', 'egress', 'goto np_egress_allowed'), ...vmaps('daddr', 'ingress'), ...remote('daddr', 'ingress', 'accept')] });
    this.ruleset.chains.set('np_egress_allowed', {
      name: 'np_egress_allowed',
      rules: [...vmaps('daddr', 'ingress'), `accept ${comment('egress allowed; destination not isolated, or isolated on another node')}`],
    });

    const isolating = new Map<InventoryPod, { Ingress: IrNetworkPolicy[]; Egress: IrNetworkPolicy[] }>();
    for (const np of this.policies) {
      for (const pod of this.resolver.selectedPods(np)) {
        let entry = isolating.get(pod);
        if (!entry) isolating.set(pod, (entry = { Ingress: [], Egress: [] }));
        for (const t of np.policyTypes) entry[t].push(np);
      }
    }
    for (const [pod, byType] of isolating) {
      for (const dir of ['Egress', 'Ingress'] as const) {
        const nps = byType[dir];
        if (nps.length === 0) continue;
        for (const ip of new Set(pod.ips)) {
          const family = familyOf(ip);
          const lower = dir === 'Egress' ? 'egress' : 'ingress';
          if (pod.nodeName !== this.nodeName) {
            this.ruleset.sets.get(`remote_${lower}_isolated${family}`)!.elements.push(ip);
            continue;
          }
          const cacheKey = allowListKey(dir, family, nps, pod);
          this.chainUses.set(cacheKey, (this.chainUses.get(cacheKey) ?? 0) + 1);
          const cached = this.allowListChains.get(cacheKey);
          if (cached) {
            this.ruleset.sets.get(`np_${lower}${family}`)!.elements.push(`${ip} : goto ${cached}`);
            continue;
          }
          const allowVerdict = dir === 'Egress' ? 'goto np_egress_allowed' : 'accept';
          const rules: string[] = [];
          for (const np of nps) {
            for (const r of dir === 'Egress' ? np.egress : np.ingress) {
              const note = `np ${np.namespace}/${np.name} ${lower}: ${peerText(np, r.peers)}`;
              const field = dir === 'Egress' ? 'daddr' : 'saddr';
              // Sets are shared by every policy with the same peer, so they are described by the peer itself.
              const peerSets =
                r.peers === null
                  ? [{ key: 'all', set: EVERYTHING, member: undefined, what: 'all peers' }]
                  : r.peers.map((p) => ({ key: `n:${this.resolver.peerKey(np, p)}`, set: this.resolver.netpolPeer(np, p), member: netpolPeerMember(np, p), what: `peer ${peerText(np, [p])}` }));
              for (const { key, set, member, what } of peerSets) {
                const addrs = this.addressMatches('np', key, set, member?.kind === 'pods' ? [member] : undefined, family, field, what);
                const union: MemberUnion = member ? { any: false, members: [member] } : { any: true, members: [] };
                const ports = this.portMatches(r.ports, family, dir === 'Ingress' ? pod : undefined, { key, union, set: () => set }, what);
                rules.push(...this.lines(addrs, ports, allowVerdict, note));
              }
            }
          }
          rules.push(`drop ${comment(`${lower}-isolated by ${nps.map((n) => `${n.namespace}/${n.name}`).join(',')}`)}`);
          const chain = this.addChain(dir === 'Egress' ? 'npe' : 'npi', rules);
          this.allowListChains.set(cacheKey, chain);
          this.ruleset.sets.get(`np_${lower}${family}`)!.elements.push(`${ip} : goto ${chain}`);
        }
      }
    }
  }
}
