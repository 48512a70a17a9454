/**
 * The reference evaluator: decides one connection from the IR and the inventory alone.
 * It is the oracle the nftables back end and the lab are held against, so it shares no
 * rule-matching code with any back end: everything here is written for clarity, per
 * connection, straight from the semantics in ARCHITECTURE.md.
 */
import ipaddr from 'ipaddr.js';
import { ANY_GROUP_ID, type Ir, type IrAction, type IrMember, type IrNamespaceScope, type IrNetpolPeer, type IrNetworkPolicy, type IrPort, type IrRule, type IrTier } from '../ir/types.js';
import { icmpTypeReachesRules } from '../ir/icmp.js';
import { matchesSelector, tenantOwnsNamespace } from '../ir/selector.js';
import type { Inventory, InventoryNamespace, InventoryPod } from '../inventory/index.js';

export type L4Protocol = 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmpv6';

/** A new connection: who opens it to whom, on what. */
export interface Connection {
  src: string;
  dst: string;
  protocol: L4Protocol;
  /** Destination port (tcp/udp/sctp). */
  port?: number;
  icmpType?: number;
  icmpCode?: number;
}

export type Verdict = 'allow' | 'deny' | 'reject';

/** How one direction (the source's egress or the destination's ingress) was decided. */
export interface Decision {
  verdict: Verdict;
  /** Where: a tier, `node` (node-to-own-pod rule) or `default` (nothing matched). */
  by: IrTier | 'node' | 'default';
  /** Rule id, NetworkPolicy id(s), or empty for defaults. */
  id: string;
}

export interface Step {
  tier: IrTier | 'node' | 'default';
  /** Rule id (`rule:…`), NetworkPolicy id (`np:ns/name`) or a synthetic name. */
  id: string;
  action: IrAction | 'isolated' | 'undecidable';
  /** `file:line` of the element, when known. */
  source?: string;
  note?: string;
}

export interface Evaluation {
  verdict: Verdict;
  egress: Decision;
  ingress: Decision;
  chain: Step[];
}

const TIERS: readonly IrTier[] = ['admin', 'tenant', 'application', 'baseline'];

/** Pre-indexed view of the inventory for address lookups. */
interface Context {
  ir: Ir;
  inventory: Inventory;
  groups: Map<string, IrMember[]>;
  namespaces: Map<string, InventoryNamespace>;
  /** Primary pod IP → pod (hostNetwork pods excluded: their IPs are the node's). */
  podByIp: Map<string, InventoryPod>;
  chain: Step[];
  /** fqdn / remote-cluster members met while matching: reported once in the chain. */
  undecidable: Set<string>;
}

function parseIp(ip: string): ipaddr.IPv4 | ipaddr.IPv6 {
  return ipaddr.process(ip);
}

function inCidr(ip: string, cidr: string): boolean {
  const addr = parseIp(ip);
  const [net, bits] = ipaddr.parseCIDR(cidr);
  return addr.kind() === net.kind() && addr.match([net, bits] as never);
}

function inCidrExcept(ip: string, cidr: string, except: readonly string[]): boolean {
  return inCidr(ip, cidr) && !except.some((e) => inCidr(ip, e));
}

function sameIp(a: string, b: string): boolean {
  return parseIp(a).toString() === parseIp(b).toString();
}

function networkNameMatches(reported: string, wanted: string): boolean {
  // Multus reports `ns/name` or `name`; intents name the network without namespace.
  return reported === wanted || reported.endsWith(`/${wanted}`);
}

function scopeContains(ctx: Context, scope: IrNamespaceScope, nsName: string): boolean {
  const ns = ctx.namespaces.get(nsName) ?? { name: nsName, labels: { 'kubernetes.io/metadata.name': nsName } };
  switch (scope.kind) {
    case 'all':
      return true;
    case 'names':
      return scope.names.includes(nsName);
    case 'selector':
      return matchesSelector(scope.selector, ns.labels);
    case 'tenant':
    case 'notTenant': {
      const tenant = ctx.ir.tenants.find((t) => t.name === scope.tenant || t.id === scope.tenant);
      const owns = tenant !== undefined && tenantOwnsNamespace(tenant, ns);
      return scope.kind === 'tenant' ? owns : !owns;
    }
  }
}

function memberContains(ctx: Context, member: IrMember, ip: string, visiting: Set<string>): boolean {
  switch (member.kind) {
    case 'pods': {
      if (member.cluster !== undefined) {
        ctx.undecidable.add(`pods in cluster ${member.cluster} (not in the local inventory)`);
        return false;
      }
      return ctx.inventory.pods.some((pod) => {
        if (pod.hostNetwork) return false;
        const owned =
          member.network === undefined
            ? pod.ips.some((p) => sameIp(p, ip))
            : pod.networks.some((n) => networkNameMatches(n.name, member.network!) && n.ips.some((p) => sameIp(p, ip)));
        return owned && scopeContains(ctx, member.scope, pod.namespace) && matchesSelector(member.selector, pod.labels);
      });
    }
    case 'cidr':
      return inCidrExcept(ip, member.cidr, member.except);
    case 'fqdn':
      ctx.undecidable.add(`fqdn ${member.pattern} (cannot be decided statically)`);
      return false;
    case 'service': {
      if (member.cluster !== undefined) {
        ctx.undecidable.add(`service ${member.namespace}/${member.name} in cluster ${member.cluster}`);
        return false;
      }
      const svc = ctx.inventory.services.find((s) => s.namespace === member.namespace && s.name === member.name);
      if (!svc) return false;
      if (svc.clusterIps.some((c) => sameIp(c, ip))) return true;
      const selector = svc.selector;
      if (!selector || Object.keys(selector).length === 0) return false; // endpoints managed elsewhere
      const pod = ctx.podByIp.get(parseIp(ip).toString());
      return (
        pod !== undefined &&
        pod.namespace === svc.namespace &&
        Object.entries(selector).every(([k, v]) => pod.labels[k] === v)
      );
    }
    case 'group':
      return groupContains(ctx, member.group, ip, visiting);
  }
}

function groupContains(ctx: Context, groupId: string, ip: string, visiting = new Set<string>()): boolean {
  if (groupId === ANY_GROUP_ID) return true;
  if (visiting.has(groupId)) return false; // the checker rejects cycles; stay total anyway
  const members = ctx.groups.get(groupId);
  if (!members) return false;
  visiting.add(groupId);
  try {
    return members.some((m) => memberContains(ctx, m, ip, visiting));
  } finally {
    visiting.delete(groupId);
  }
}

/** Whether a port spec admits the connection; named ports are resolved on the destination pod. */
function portMatches(ctx: Context, spec: IrPort, conn: Connection): boolean {
  if (spec.protocol === 'any') return true;
  if (spec.protocol !== conn.protocol) return false;
  if (spec.protocol === 'icmp' || spec.protocol === 'icmpv6') {
    if (spec.icmpType === undefined) return true;
    if (spec.icmpType !== conn.icmpType) return false;
    return spec.icmpCode === undefined || spec.icmpCode === conn.icmpCode;
  }
  if (conn.port === undefined) return false;
  if (spec.name !== undefined) {
    const pod = ctx.podByIp.get(parseIp(conn.dst).toString());
    return pod !== undefined && pod.ports.some((p) => p.name === spec.name && p.protocol === spec.protocol && p.port === conn.port);
  }
  if (spec.port === undefined) return true;
  return conn.port >= spec.port && conn.port <= (spec.endPort ?? spec.port);
}

function sourceOf(ctx: Context, id: string): string | undefined {
  const ref = ctx.ir.sources[id]?.[0];
  return ref ? `${ref.file}:${ref.line}` : undefined;
}

function ruleMatches(ctx: Context, rule: IrRule, conn: Connection): boolean {
  return (
    rule.from.some((g) => groupContains(ctx, g, conn.src)) &&
    rule.to.some((g) => groupContains(ctx, g, conn.dst)) &&
    (rule.ports.length === 0 || rule.ports.some((p) => portMatches(ctx, p, conn)))
  );
}

// ---------------------------------------------------------------- NetworkPolicy

function selects(np: IrNetworkPolicy, pod: InventoryPod): boolean {
  return np.namespace === pod.namespace && matchesSelector(np.podSelector, pod.labels);
}

function peerMatches(ctx: Context, np: IrNetworkPolicy, peer: IrNetpolPeer, ip: string): boolean {
  if (peer.kind === 'ipBlock') return inCidrExcept(ip, peer.cidr, peer.except);
  const pod = ctx.podByIp.get(parseIp(ip).toString());
  if (!pod) return false;
  const nsOk =
    peer.namespaceSelector === undefined
      ? pod.namespace === np.namespace
      : matchesSelector(peer.namespaceSelector, ctx.namespaces.get(pod.namespace)?.labels ?? {});
  return nsOk && matchesSelector(peer.podSelector, pod.labels);
}

/**
 * One direction under upstream semantics: `none` when no policy of that type selects the
 * pod (not isolated), else allow iff some rule of a selecting policy admits the peer+port.
 */
function netpolDirection(
  ctx: Context,
  pod: InventoryPod | undefined,
  direction: 'Ingress' | 'Egress',
  peerIp: string,
  conn: Connection,
): { decision: 'none' | 'allow' | 'deny'; policies: string[] } {
  if (!pod) return { decision: 'none', policies: [] };
  const policies = ctx.ir.networkPolicies.filter((np) => np.policyTypes.includes(direction) && selects(np, pod));
  if (policies.length === 0) return { decision: 'none', policies: [] };
  const allowing = policies.filter((np) =>
    (direction === 'Ingress' ? np.ingress : np.egress).some(
      (rule) =>
        (rule.peers === null || rule.peers.some((peer) => peerMatches(ctx, np, peer, peerIp))) &&
        (rule.ports === null || rule.ports.some((p) => portMatches(ctx, p, conn))),
    ),
  );
  return allowing.length > 0
    ? { decision: 'allow', policies: allowing.map((np) => np.id).sort() }
    : { decision: 'deny', policies: policies.map((np) => np.id).sort() };
}

// ---------------------------------------------------------------- entry point

export function evaluate(ir: Ir, inventory: Inventory, conn: Connection): Evaluation {
  const ctx: Context = {
    ir,
    inventory,
    groups: new Map(ir.groups.map((g) => [g.id, g.members])),
    namespaces: new Map(inventory.namespaces.map((n) => [n.name, n])),
    podByIp: new Map(),
    chain: [],
    undecidable: new Set(),
  };
  for (const pod of inventory.pods) {
    if (pod.hostNetwork) continue;
    for (const ip of pod.ips) ctx.podByIp.set(parseIp(ip).toString(), pod);
  }
  const srcPod = ctx.podByIp.get(parseIp(conn.src).toString());
  const dstPod = ctx.podByIp.get(parseIp(conn.dst).toString());
  const finish = (egress: Decision, ingress: Decision): Evaluation => {
    for (const what of [...ctx.undecidable].sort()) {
      ctx.chain.push({ tier: 'default', id: 'undecidable', action: 'undecidable', note: `${what}: treated as no match` });
    }
    const verdict = egress.verdict !== 'allow' ? egress.verdict : ingress.verdict;
    return { verdict, egress, ingress, chain: ctx.chain };
  };

  // The pod's own node may always reach it (kubelet probes), on any of its networks, whatever the rules say.
  const dstOwner = dstPod ?? inventory.pods.find((p) => !p.hostNetwork && p.networks.some((n) => n.ips.some((ip) => sameIp(ip, conn.dst))));
  const dstNode = dstOwner?.nodeName ? inventory.nodes.find((n) => n.name === dstOwner.nodeName) : undefined;
  if (dstNode && dstNode.addresses.some((a) => sameIp(a, conn.src))) {
    const d: Decision = { verdict: 'allow', by: 'node', id: `node:${dstNode.name}` };
    ctx.chain.push({ tier: 'node', id: d.id, action: 'allow', note: 'traffic from the pod\'s own node is always allowed' });
    return finish(d, d);
  }

  // Rules decide new connections; an ICMP message that cannot open one is a reply or an
  // error, admitted only as part of an allowed connection, never on its own.
  if ((conn.protocol === 'icmp' || conn.protocol === 'icmpv6') && conn.icmpType !== undefined && !icmpTypeReachesRules(conn.protocol, conn.icmpType)) {
    const d: Decision = { verdict: 'deny', by: 'default', id: 'conntrack:invalid' };
    ctx.chain.push({ tier: 'default', id: d.id, action: 'deny', note: `${conn.protocol} type ${conn.icmpType} never opens a connection: only replies and errors of an allowed one pass` });
    return finish(d, d);
  }

  for (const tier of TIERS) {
    let passed = false;
    for (const rule of ir.rules) {
      if (rule.tier !== tier || !ruleMatches(ctx, rule, conn)) continue;
      const source = sourceOf(ctx, rule.id);
      ctx.chain.push({ tier, id: rule.id, action: rule.action, ...(source ? { source } : {}) });
      if (rule.action === 'pass') {
        passed = true;
        break;
      }
      const d: Decision = { verdict: rule.action, by: tier, id: rule.id };
      return finish(d, d);
    }
    if (passed || tier !== 'application') continue;

    // Kubernetes NetworkPolicies close the application tier, one direction each.
    const egress = netpolDirection(ctx, srcPod, 'Egress', conn.dst, conn);
    const ingress = netpolDirection(ctx, dstPod, 'Ingress', conn.src, conn);
    if (egress.decision === 'none' && ingress.decision === 'none') continue;
    const record = (dir: typeof egress, pod: InventoryPod, label: string): Decision => {
      const id = dir.policies.join(',');
      for (const npId of dir.policies) {
        const source = sourceOf(ctx, npId);
        ctx.chain.push({
          tier,
          id: npId,
          action: dir.decision === 'allow' ? 'allow' : 'isolated',
          ...(source ? { source } : {}),
          note: dir.decision === 'allow' ? `${label} of ${pod.namespace}/${pod.name} allowed` : `${label} of ${pod.namespace}/${pod.name} isolated and no rule allows it`,
        });
      }
      return { verdict: dir.decision === 'allow' ? 'allow' : 'deny', by: tier, id };
    };
    const egressDecision: Decision | undefined = egress.decision === 'none' ? undefined : record(egress, srcPod!, 'egress');
    const ingressDecision: Decision | undefined = ingress.decision === 'none' ? undefined : record(ingress, dstPod!, 'ingress');
    // A side without policies of its type is open; the isolated side(s) decide.
    const open = (other: Decision): Decision => ({ verdict: 'allow', by: other.by, id: 'not-isolated' });
    return finish(egressDecision ?? open(ingressDecision!), ingressDecision ?? open(egressDecision!));
  }

  const d: Decision = { verdict: 'allow', by: 'default', id: '' };
  ctx.chain.push({ tier: 'default', id: 'default', action: 'allow', note: 'no rule matched' });
  return finish(d, d);
}
