/**
 * dnsmasq configurations, one per DNS rule that decides some local pods' DNS. Each
 * instance forwards only the allowed names to the rule's DNS servers; it has no default
 * upstream, so every other name is answered REFUSED. Subdomains of an exact name are
 * answered NXDOMAIN (`address=/*.name/`), since dnsmasq would otherwise forward them too.
 * Every instance also feeds the node's FQDN sets (`nftset=`) from the answers it relays;
 * dnsmasq 2.90 matches nftset domains by whole labels and takes no wildcard there, so the
 * set of a pattern learns its domain and every subdomain (NI8308 for Antrea's `*domain`).
 *
 * Pattern semantics (docs/l7.md):
 *   `name`      exactly that name
 *   `*`         every name
 *   `*.domain`  subdomains of domain, not domain itself; dnsmasq matches them at any depth
 *               (Cilium: one label), reported as NI8305
 *   `*domain`   domain and every name ending in it (Antrea), dnsmasq's own `*domain`
 */
import { diag, type Diagnostic } from '../../diagnostics/diagnostic.js';
import { spanOfSource } from '../../diagnostics/span.js';
import type { Ir } from '../../ir/types.js';
import { FAMILY, TABLE } from '../nftables/model.js';
import type { DnsInstance, L7Plan } from './plan.js';

/** The longest TTL the node's dnsmasq instances hand out (`max-ttl`): a pod re-resolves at least this often (fqdn.ts). */
export const FQDN_TTL_CAP_S = 300;

export type DnsPatternShape =
  | { kind: 'exact'; domain: string }
  | { kind: 'all' }
  | { kind: 'subdomains'; domain: string }
  | { kind: 'suffix'; domain: string }
  | { kind: 'unsupported'; why: string };

const NAME = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;

/** Reads a Cilium/Antrea name or pattern (case-insensitive, optional final dot). */
export function dnsPatternShape(pattern: string): DnsPatternShape {
  const p = pattern.toLowerCase().replace(/\.$/, '');
  if (p === '*') return { kind: 'all' };
  if (p.startsWith('*.') && NAME.test(p.slice(2))) return { kind: 'subdomains', domain: p.slice(2) };
  if (p.startsWith('*') && !p.startsWith('*.') && NAME.test(p.slice(1))) return { kind: 'suffix', domain: p.slice(1) };
  if (NAME.test(p)) return { kind: 'exact', domain: p };
  return { kind: 'unsupported', why: p.includes('*') ? 'dnsmasq takes "*" only at the start of a pattern' : 'not a DNS name' };
}

/** dnsmasq's domain spec between slashes (`/spec/`) for a pattern shape. */
function domainSpec(shape: Exclude<DnsPatternShape, { kind: 'unsupported' }>): string {
  switch (shape.kind) {
    case 'all':
      return '#';
    case 'exact':
      return shape.domain;
    case 'subdomains':
      return `*.${shape.domain}`;
    case 'suffix':
      return `*${shape.domain}`;
  }
}

export interface DnsmasqConfig {
  instance: string;
  port: number;
  config: string;
}

function renderInstance(ir: Ir, plan: L7Plan, inst: DnsInstance, diagnostics: Diagnostic[]): DnsmasqConfig {
  const ruleId = inst.rules[0]!;
  const ruleName = ruleId.replace(/^rule:/, '');
  const span = spanOfSource(ir.sources[ruleId]?.[0]);
  const lines = [
    // Which pods are steered here is the nft set's business: naming them would make pod churn restart dnsmasq.
    `# netintent dnsmasq ${inst.name} on node ${plan.node}: DNS of the pods steered here under rule ${ruleName}. Generated, do not edit.`,
    `port=${inst.proxyPort}`,
    `listen-address=${plan.nodeIp}`,
    'bind-interfaces',
    // Nothing but the allowed names goes upstream: no resolv.conf, no hosts file, no default server.
    'no-resolv',
    'no-hosts',
    'no-poll',
    // Every answer comes from upstream, so every answer feeds the nft sets.
    'cache-size=0',
    // Adding nft set elements needs CAP_NET_ADMIN, which an unprivileged user would lose.
    'user=root',
  ];
  const upstream = (spec: string): string[] => inst.servers.map((s) => `server=/${spec}/${s}`);
  const seen = new Set<string>();
  for (const p of inst.patterns) {
    const shape: DnsPatternShape = p.kind === 'name' && p.value.includes('*') ? { kind: 'unsupported', why: 'a matchName has no wildcard; use a pattern' } : dnsPatternShape(p.value);
    if (shape.kind === 'unsupported') {
      diagnostics.push(diag('NI8304', span, [p.value, ruleName, shape.why]));
      continue;
    }
    if (shape.kind === 'subdomains') diagnostics.push(diag('NI8305', span, [p.value, ruleName, shape.domain]));
    const spec = domainSpec(shape);
    if (seen.has(spec)) continue;
    seen.add(spec);
    lines.push(...upstream(spec));
    if (shape.kind === 'exact') lines.push(`address=/*.${shape.domain}/`);
  }
  if (plan.fqdnSets.size > 0) {
    // The agent refreshes an FQDN set element at each logged answer; pods re-resolve at least every FQDN_TTL_CAP_S.
    lines.push(`max-ttl=${FQDN_TTL_CAP_S}`, 'log-queries');
  }
  for (const [pattern, set] of plan.fqdnSets) {
    const shape = dnsPatternShape(pattern);
    if (shape.kind === 'unsupported' || shape.kind === 'all') continue; // reported with the nft sets (l7/nft.ts)
    // nftset matches whole labels only (no wildcards): the domain and its subdomains.
    lines.push(`nftset=/${shape.domain}/4#${FAMILY}#${TABLE}#${set},6#${FAMILY}#${TABLE}#${set.replace(/_4$/, '_6')}`);
  }
  return { instance: inst.name, port: inst.proxyPort, config: lines.join('\n') + '\n' };
}

export function renderDnsmasqConfigs(ir: Ir, plan: L7Plan): { configs: DnsmasqConfig[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const configs = plan.dns.map((inst) => renderInstance(ir, plan, inst, diagnostics));
  return { configs, diagnostics };
}
