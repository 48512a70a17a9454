/**
 * IR + inventory → what the L7 proxies of one node must do: which connections go to
 * HAProxy (HTTP) or dnsmasq (DNS), from which sources, under which rules.
 *
 * A pod source is steered to a proxy exactly when the reference evaluator says the
 * connection is allowed and an L7 rule decided it (egress or ingress side): so higher
 * tiers and earlier rules keep their say, and L3/L4-only traffic never meets a proxy.
 * CIDR sources cannot be evaluated address by address; they are steered by the L7 rule's
 * own `from` ranges, which is only sound when no earlier rule decides traffic to the
 * same destination (otherwise NI8306).
 */
import { diag, type Diagnostic } from '../../diagnostics/diagnostic.js';
import { spanOfSource } from '../../diagnostics/span.js';
import { evaluate } from '../../explain/index.js';
import { familyOf } from '../../ir/address.js';
import type { Ir, IrRule, IrTier } from '../../ir/types.js';
import type { Inventory, InventoryPod } from '../../inventory/index.js';
import { SelectorResolver, rangeToCidrs, setContains } from '../../resolve/index.js';
import { shortHash } from '../nftables/model.js';

const TIERS: readonly IrTier[] = ['admin', 'tenant', 'application', 'baseline'];

/** Sources that share the same L7 rules for one destination: their requests are checked against all of them. */
export interface HttpSourceGroup {
  /** Rule ids whose HTTP matches must all admit a request (egress and ingress side). */
  rules: string[];
  /** Pod IPs and CIDRs, sorted. */
  sources: string[];
}

/** One HAProxy frontend: a destination pod IP and port with HTTP rules. */
export interface HttpTarget {
  podIp: string;
  port: number;
  /** Pod as `namespace/name`, for comments. */
  pod: string;
  /** Local port of the proxy on the node that this destination is DNATed to. */
  proxyPort: number;
  groups: HttpSourceGroup[];
}

/** One dnsmasq instance: the DNS rule (set) that decides some local pods' DNS. */
export interface DnsInstance {
  /** Stable name derived from the rule ids. */
  name: string;
  rules: string[];
  /** DNS server addresses the pods talk to (rule `to`), also the upstreams. */
  servers: string[];
  /** Protocol/port pairs of the rule (`udp/53`, `tcp/53`). */
  ports: { protocol: 'udp' | 'tcp'; port: number }[];
  /** Allowed name patterns (matchName / matchPattern), as written. */
  patterns: { kind: 'name' | 'pattern'; value: string }[];
  /** Local pod IPs whose DNS is steered here, sorted. */
  sources: string[];
  proxyPort: number;
}

export interface L7Plan {
  node: string;
  /** IPv4 address of the node the proxies listen on. */
  nodeIp: string;
  http: HttpTarget[];
  dns: DnsInstance[];
  /** FQDN patterns used as destinations by some rule → name of their DNS-fed nft set. */
  fqdnSets: Map<string, string>;
  /**
   * IPv6 connections that an HTTP rule decides: the proxy listens on IPv4 only, so they
   * are dropped (fail-closed) rather than admitted at L4.
   */
  closed6: { podIp: string; port: number; pod: string; sources: string[] }[];
  /** Every pod IPv4 address: CIDR steering never catches pods (they are evaluated exactly). */
  podIps: string[];
  diagnostics: Diagnostic[];
}

export const HTTP_PROXY_PORTS = { base: 20000, size: 10000 };
export const DNS_PROXY_PORTS = { base: 30000, size: 5000 };

/** A port derived from content (so a change moves only its own port), probing on collision. */
function portFor(key: string, range: { base: number; size: number }, used: Set<number>): number {
  let port = range.base + (parseInt(shortHash(key).slice(0, 8), 16) % range.size);
  while (used.has(port)) port = port + 1 >= range.base + range.size ? range.base : port + 1;
  used.add(port);
  return port;
}

export function fqdnSetName(pattern: string, family: 4 | 6): string {
  return `fq_${shortHash(`fqdn|${pattern}`)}_${family}`;
}

const hasHttp = (r: IrRule): boolean => r.action === 'allow' && !r.l4Only && (r.l7?.http.length ?? 0) > 0;
const hasDns = (r: IrRule): boolean => r.action === 'allow' && !r.l4Only && (r.l7?.dns.length ?? 0) > 0;

/** Rule ids in evaluation order (tier, then array order). */
function ordered(ir: Ir): IrRule[] {
  return TIERS.flatMap((t) => ir.rules.filter((r) => r.tier === t));
}

export function planNodeL7(ir: Ir, inventory: Inventory, nodeName: string): L7Plan {
  const diagnostics: Diagnostic[] = [];
  const resolver = new SelectorResolver(ir, inventory);
  const node = inventory.nodes.find((n) => n.name === nodeName);
  const nodeIp = node?.addresses.find((a) => familyOf(a) === 4) ?? '';
  const rules = ordered(ir);
  const byId = new Map(rules.map((r) => [r.id, r]));
  const pods = inventory.pods.filter((p) => !p.hostNetwork);
  const podIps = pods.flatMap((p) => p.ips.filter((ip) => familyOf(ip) === 4)).sort();
  const podIps6 = pods.flatMap((p) => p.ips.filter((ip) => familyOf(ip) === 6)).sort();
  const localPods = pods.filter((p) => p.nodeName === nodeName);
  const usedPorts = new Set<number>();
  const ruleSpan = (id: string) => spanOfSource(ir.sources[id]?.[0]);

  // Which L7 rules decided a connection; [] when it is not allowed or decided at L3/L4.
  const decidingRules = (src: string, dst: string, protocol: 'tcp' | 'udp', port: number, wanted: (r: IrRule) => boolean): string[] => {
    const e = evaluate(ir, inventory, { src, dst, protocol, port });
    if (e.verdict !== 'allow') return [];
    return [...new Set([e.egress.id, e.ingress.id])].filter((id) => byId.has(id) && wanted(byId.get(id)!)).sort();
  };

  // ---- HTTP: one target per local destination pod IP and port of an HTTP rule.
  const http: HttpTarget[] = [];
  const portsOf = (rule: IrRule, pod: InventoryPod): number[] =>
    rule.ports.flatMap((p) => {
      if (p.protocol !== 'tcp') return [];
      if (p.name !== undefined) return pod.ports.filter((cp) => cp.name === p.name && cp.protocol === 'tcp').map((cp) => cp.port);
      if (p.port === undefined) return [];
      if (p.endPort !== undefined && p.endPort !== p.port) {
        diagnostics.push(diag('NI5001', ruleSpan(rule.id), ['l7', `the port range ${p.port}-${p.endPort}`, rule.id, 'The HTTP proxy needs one frontend per port: list the ports.']));
        return [];
      }
      return [p.port];
    });
  const targets = new Map<string, { podIp: string; port: number; pod: InventoryPod }>();
  for (const rule of rules.filter(hasHttp)) {
    const dstSet = resolver.groupUnion(rule.to);
    for (const pod of localPods) {
      for (const ip of pod.ips.filter((a) => setContains(dstSet, a))) {
        for (const port of portsOf(rule, pod)) targets.set(`${ip}:${port}`, { podIp: ip, port, pod });
      }
    }
  }
  const closed6: L7Plan['closed6'] = [];
  for (const key of [...targets.keys()].sort()) {
    const { podIp, port, pod } = targets.get(key)!;
    if (familyOf(podIp) === 6) {
      const sources = podIps6.filter((src) => src !== podIp && decidingRules(src, podIp, 'tcp', port, hasHttp).length > 0);
      for (const rule of rules.filter((r) => hasHttp(r) && setContains(resolver.groupUnion(r.to), podIp))) {
        const from = resolver.groupUnion(rule.from);
        sources.push(...(from.any ? ['::/0'] : from.ranges.filter((r) => r.family === 6).flatMap(rangeToCidrs)));
      }
      if (sources.length) closed6.push({ podIp, port, pod: `${pod.namespace}/${pod.name}`, sources: [...new Set(sources)].sort() });
      continue;
    }
    const groups = new Map<string, string[]>();
    for (const src of podIps) {
      if (src === podIp) continue;
      const ids = decidingRules(src, podIp, 'tcp', port, hasHttp);
      if (ids.length) groups.set(ids.join(','), [...(groups.get(ids.join(',')) ?? []), src]);
    }
    // CIDR sources of the HTTP rules that decide this destination.
    for (const rule of rules.filter((r) => hasHttp(r) && setContains(resolver.groupUnion(r.to), podIp) && portsOf(r, pod).includes(port))) {
      const ranges = resolver.groupUnion(rule.from).ranges.filter((r) => r.family === 4);
      const cidrs = resolver.groupUnion(rule.from).any ? ['0.0.0.0/0'] : ranges.flatMap(rangeToCidrs);
      if (cidrs.length === 0) continue;
      const earlier = rules.slice(0, rules.indexOf(rule)).find((r) => setContains(resolver.groupUnion(r.to), podIp));
      if (earlier) {
        diagnostics.push(diag('NI8306', ruleSpan(rule.id), [rule.id.replace(/^rule:/, ''), earlier.id.replace(/^rule:/, ''), `${pod.namespace}/${pod.name}`]));
        continue;
      }
      groups.set(rule.id, [...(groups.get(rule.id) ?? []), ...cidrs]);
    }
    if (groups.size === 0) continue;
    http.push({
      podIp,
      port,
      pod: `${pod.namespace}/${pod.name}`,
      proxyPort: portFor(`http|${key}`, HTTP_PROXY_PORTS, usedPorts),
      groups: [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, sources]) => ({ rules: k.split(','), sources: [...new Set(sources)].sort() })),
    });
  }

  // ---- DNS: local pods whose DNS is decided by a DNS rule get a dnsmasq for that rule.
  const dnsByRule = new Map<string, DnsInstance>();
  for (const rule of rules.filter(hasDns)) {
    const servers = [...resolver.groupUnion(rule.to).hosts].filter((h) => familyOf(h) === 4).sort();
    const ports = rule.ports.flatMap((p) => ((p.protocol === 'udp' || p.protocol === 'tcp') && p.port !== undefined ? [{ protocol: p.protocol, port: p.port }] : []));
    const sources: string[] = [];
    for (const pod of localPods) {
      for (const src of pod.ips.filter((a) => familyOf(a) === 4)) {
        // The egress side decides the DNS filter; the ingress side is the DNS server's.
        const steered = servers.some((dst) => ports.some((p) => {
          const e = evaluate(ir, inventory, { src, dst, protocol: p.protocol, port: p.port });
          return e.verdict === 'allow' && e.egress.id === rule.id;
        }));
        if (steered) sources.push(src);
      }
    }
    if (sources.length === 0 || servers.length === 0) continue;
    const patterns = rule.l7!.dns.flatMap((d) => [
      ...(d.matchName !== undefined ? [{ kind: 'name' as const, value: d.matchName }] : []),
      ...(d.matchPattern !== undefined ? [{ kind: 'pattern' as const, value: d.matchPattern }] : []),
    ]);
    dnsByRule.set(rule.id, { name: `dns_${shortHash(rule.id)}`, rules: [rule.id], servers, ports, patterns, sources: sources.sort(), proxyPort: portFor(`dns|${rule.id}`, DNS_PROXY_PORTS, usedPorts) });
  }

  // ---- FQDN destinations: one DNS-fed set per pattern.
  const fqdnSets = new Map<string, string>();
  for (const rule of rules) {
    for (const u of resolver.groupUnion(rule.to).unresolved) if (u.startsWith('fqdn ')) fqdnSets.set(u.slice(5), fqdnSetName(u.slice(5), 4));
  }

  return { node: nodeName, nodeIp, http, closed6, dns: [...dnsByRule.values()], fqdnSets: new Map([...fqdnSets].sort()), podIps, diagnostics };
}
