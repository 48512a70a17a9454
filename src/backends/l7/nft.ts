/**
 * The nftables side of the L7 proxies, added to the node's `inet netintent` model:
 *   l7_steer (nat prerouting): connections an L7 rule decided are DNATed to the local
 *                              proxy port of their destination (HTTP) or rule (DNS);
 *                              nothing else is touched, so L3/L4 traffic never meets a proxy
 *   l7_input (filter input)  : proxy ports listed in @l7_down are dropped, so L7-guarded
 *                              ports stay closed while a proxy is down (the agent fills it)
 *   l7_closed6 (forward, -1) : IPv6 connections an HTTP rule decided are dropped; the
 *                              proxy is IPv4-only and must not be bypassed
 *   fq_<hash>_4/6            : addresses dnsmasq learnt for an FQDN pattern (timeout: fqdn.ts)
 */
import { diag, type Diagnostic } from '../../diagnostics/diagnostic.js';
import { spanOfSource } from '../../diagnostics/span.js';
import type { Ir } from '../../ir/types.js';
import { SelectorResolver } from '../../resolve/index.js';
import type { Inventory } from '../../inventory/index.js';
import { comment, shortHash, sortElements, type NftRuleset, type NftSet } from '../nftables/model.js';
import { dnsPatternShape } from './dnsmasq.js';
import { FQDN_TIMEOUT } from './fqdn.js';
import type { L7Plan } from './plan.js';

export const L7_DOWN_SET = 'l7_down';

/**
 * A `nft list table` without the elements of the sets filled at run time (@l7_down by the
 * agent, the FQDN sets by dnsmasq): they change without anyone drifting from the intents.
 */
export function withoutRuntimeElements(listing: string): string {
  return listing.replace(new RegExp(`(\\n\\s*set (?:${L7_DOWN_SET}|fq_\\w+) \\{[^}]*?)\\n\\s*elements = \\{[^}]*\\}`, 'g'), '$1');
}

function addSet(ruleset: NftRuleset, set: NftSet): void {
  ruleset.sets.set(set.name, { ...set, elements: sortElements(set.elements) });
}

export function addL7ToRuleset(ir: Ir, inventory: Inventory, ruleset: NftRuleset, plan: L7Plan): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const steer: string[] = [];
  addSet(ruleset, { name: 'l7_pods4', kind: 'set', type: 'ipv4_addr', interval: false, comment: 'every pod IPv4 address: pods are steered by exact evaluation, never by CIDR', elements: plan.podIps });
  addSet(ruleset, { name: L7_DOWN_SET, kind: 'set', type: 'inet_service', interval: false, comment: 'proxy ports whose proxy is down: closed until it is back', elements: [] });

  for (const t of plan.http) {
    const to = `dnat ip to ${plan.nodeIp}:${t.proxyPort}`;
    const match = `ip daddr ${t.podIp} tcp dport ${t.port}`;
    const hosts = t.groups.flatMap((g) => g.sources.filter((s) => !s.includes('/')));
    const cidrs = t.groups.flatMap((g) => g.sources.filter((s) => s.includes('/')));
    const base = `l7h_${shortHash(`${t.podIp}:${t.port}`)}`;
    const note = `HTTP rules of ${t.pod}:${t.port} -> proxy`;
    if (hosts.length) {
      addSet(ruleset, { name: `${base}_pods`, kind: 'set', type: 'ipv4_addr', interval: false, comment: `pods whose requests to ${t.pod}:${t.port} an HTTP rule checks`, elements: hosts });
      steer.push(`${match} ip saddr @${base}_pods ${to} ${comment(note)}`);
    }
    if (cidrs.length) {
      addSet(ruleset, { name: `${base}_cidrs`, kind: 'set', type: 'ipv4_addr', interval: true, comment: `CIDR sources whose requests to ${t.pod}:${t.port} an HTTP rule checks`, elements: cidrs });
      steer.push(`${match} ip saddr != @l7_pods4 ip saddr @${base}_cidrs ${to} ${comment(note)}`);
    }
  }
  for (const d of plan.dns) {
    const base = `l7d_${shortHash(d.name)}`;
    addSet(ruleset, { name: `${base}_pods`, kind: 'set', type: 'ipv4_addr', interval: false, comment: `pods whose DNS ${d.rules.join(',')} filters`, elements: d.sources });
    addSet(ruleset, { name: `${base}_servers`, kind: 'set', type: 'ipv4_addr', interval: false, comment: `DNS servers of ${d.rules.join(',')}`, elements: d.servers });
    // One line per protocol: a DNAT to a port needs the protocol matched on its own.
    for (const proto of ['tcp', 'udp'] as const) {
      const ports = [...new Set(d.ports.filter((p) => p.protocol === proto).map((p) => p.port))].sort((a, b) => a - b);
      if (ports.length === 0) continue;
      const dport = ports.length === 1 ? `${ports[0]}` : `{ ${ports.join(', ')} }`;
      steer.push(`ip saddr @${base}_pods ip daddr @${base}_servers ${proto} dport ${dport} dnat ip to ${plan.nodeIp}:${d.proxyPort} ${comment(`DNS of ${d.rules.join(',')} -> dnsmasq ${d.name}`)}`);
    }
  }
  if (steer.length) ruleset.chains.set('l7_steer', { name: 'l7_steer', hook: 'type nat hook prerouting priority dstnat; policy accept;', rules: steer });
  ruleset.chains.set('l7_input', {
    name: 'l7_input',
    hook: 'type filter hook input priority filter; policy accept;',
    // The node's own probes (over lo) still reach a proxy coming up.
    rules: [`iif != lo meta l4proto { tcp, udp } th dport @${L7_DOWN_SET} drop ${comment('L7 proxy down: its ports stay closed')}`],
  });

  if (plan.closed6.length) {
    const rules = plan.closed6.map((c) => {
      const name = `l7c_${shortHash(`${c.podIp}:${c.port}`)}`;
      addSet(ruleset, { name, kind: 'set', type: 'ipv6_addr', interval: true, comment: `IPv6 sources an HTTP rule decides for ${c.pod}:${c.port}`, elements: c.sources.map((s) => (s.includes('/') ? s : `${s}/128`)) });
      return `ip6 daddr ${c.podIp} tcp dport ${c.port} ip6 saddr @${name} drop ${comment(`HTTP rules of ${c.pod}:${c.port}: the proxy is IPv4-only, closed`)}`;
    });
    ruleset.chains.set('l7_closed6', { name: 'l7_closed6', hook: 'type filter hook forward priority filter - 1; policy accept;', rules });
  }

  // FQDN destinations: sets dnsmasq fills; a pattern dnsmasq cannot match is an error.
  const resolver = new SelectorResolver(ir, inventory);
  for (const [pattern, set4] of plan.fqdnSets) {
    const shape = dnsPatternShape(pattern);
    const rule = ir.rules.find((r) => resolver.groupUnion(r.to).unresolved.includes(`fqdn ${pattern}`))!;
    const span = spanOfSource(ir.sources[rule.id]?.[0]);
    if (shape.kind === 'unsupported' || shape.kind === 'all') {
      diagnostics.push(diag('NI8304', span, [pattern, rule.id.replace(/^rule:/, ''), shape.kind === 'all' ? 'an FQDN peer "*" is every address; use group any' : shape.why]));
    }
    if (shape.kind === 'suffix') diagnostics.push(diag('NI8308', span, [pattern, rule.id.replace(/^rule:/, ''), shape.domain]));
    for (const [family, name] of [[4, set4], [6, set4.replace(/_4$/, '_6')]] as const) {
      addSet(ruleset, { name, kind: 'set', type: family === 4 ? 'ipv4_addr' : 'ipv6_addr', interval: false, timeout: FQDN_TIMEOUT, comment: `addresses dnsmasq resolved for ${pattern}`, elements: [] });
    }
  }
  return diagnostics;
}
