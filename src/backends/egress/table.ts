/**
 * The node agent's own nft table `inet netintent_node` (kept apart from the nftables
 * back end's `inet netintent`, so neither replaces the other's rules):
 *   antispoof (prerouting, raw)   : a packet from a pod's host-side interface must carry
 *                                   one of that pod's IPs (`iifname . saddr` set), or drop
 *   egress_mark (prerouting)      : selected pods → gateway destinations get the gateway's
 *                                   mark (then `ip rule fwmark` routes them to the gateway)
 *   egress_snat (postrouting, nat): on the active gateway, SNAT them to the egress IP
 * One script, applied atomically like the back end's (`add`, `delete`, recreate).
 */
import { comment, sortElements } from '../nftables/model.js';
import { ipsOfFamily, type EgressPlan } from './plan.js';

export const NODE_TABLE = 'netintent_node';

export interface PodInterface {
  pod: string;
  ifname: string;
  ips: string[];
}

export interface NodeTableInput {
  egress: EgressPlan;
  /** Gateway id → active gateway node (absent: none healthy). */
  active: ReadonlyMap<string, string | undefined>;
  /** Local pods with their host-side interface, for anti-spoofing. */
  interfaces: readonly PodInterface[];
}

const hex = (n: number): string => `0x${n.toString(16)}`;
const ipKw = (f: 4 | 6): string => (f === 4 ? 'ip' : 'ip6');
const addrType = (f: 4 | 6): string => (f === 4 ? 'ipv4_addr' : 'ipv6_addr');

function set(name: string, type: string, elements: string[], note: string, interval = false): string[] {
  return [`\tset ${name} {`, `\t\ttype ${type}`, ...(interval ? ['\t\tflags interval'] : []), `\t\t${comment(note)}`, ...(elements.length ? [`\t\telements = { ${elements.join(',\n\t\t\t     ')} }`] : []), '\t}'];
}

export function renderNodeTable(input: NodeTableInput): string {
  const { egress, active } = input;
  const blocks: string[][] = [];
  const ifs = [...new Set(input.interfaces.map((i) => i.ifname))].sort();
  blocks.push(set('pod_ifs', 'ifname', ifs.map((i) => `"${i}"`), 'host-side interfaces of local pods'));
  for (const f of [4, 6] as const) {
    const pairs = input.interfaces.flatMap((i) => ipsOfFamily(i.ips, f).map((ip) => `"${i.ifname}" . ${ip}`)).sort();
    blocks.push(set(`src_ok${f}`, `ifname . ${addrType(f)}`, pairs, 'the addresses each pod interface may send from'));
  }
  const mark: string[] = [];
  const snat: string[] = [];
  for (const gw of egress.gateways) {
    const activeNode = active.get(gw.id);
    const base = `egw_${gw.mark.toString(16)}`;
    for (const f of [4, 6] as const) {
      const sources = ipsOfFamily(gw.sources, f);
      const dests = ipsOfFamily(gw.destinations, f);
      if (sources.length === 0 || dests.length === 0) continue;
      blocks.push(set(`${base}_src${f}`, addrType(f), sortElements(sources), `egress gateway ${gw.name}: selected pods`));
      blocks.push(set(`${base}_dst${f}`, addrType(f), dests, `egress gateway ${gw.name}: destinations`, true));
      const match = `${ipKw(f)} saddr @${base}_src${f} ${ipKw(f)} daddr @${base}_dst${f}`;
      const egressIp = ipsOfFamily(gw.egressIps, f)[0];
      if (activeNode === egress.node) {
        if (egressIp) snat.push(`${match} snat ${ipKw(f)} to ${egressIp} ${comment(`${gw.id}: leave with the egress IP`)}`);
      } else mark.push(`${match} meta mark set ${hex(gw.mark)} ${comment(`${gw.id}: route via gateway ${activeNode ?? '(none healthy)'}`)}`);
    }
  }
  const chain = (name: string, hook: string, rules: string[]): string[] => [`\tchain ${name} {`, `\t\t${hook}`, ...rules.map((r) => `\t\t${r}`), '\t}'];
  blocks.push(
    chain('antispoof', 'type filter hook prerouting priority raw; policy accept;', [
      `iifname != @pod_ifs accept ${comment('not from a pod')}`,
      `iifname . ip saddr @src_ok4 accept ${comment("one of the pod's IPv4 addresses")}`,
      `iifname . ip6 saddr @src_ok6 accept ${comment("one of the pod's IPv6 addresses")}`,
      `ip6 saddr { ::, fe80::/10 } accept ${comment('neighbour discovery and DAD')}`,
      `counter drop ${comment("source address not among the pod's IPs")}`,
    ]),
    chain('egress_mark', 'type filter hook prerouting priority mangle; policy accept;', mark),
    chain('egress_snat', 'type nat hook postrouting priority srcnat; policy accept;', snat),
  );
  const out = ['#!/usr/sbin/nft -f', `# netintent node table for node ${egress.node}: anti-spoofing and egress gateways, generated, do not edit.`, `add table inet ${NODE_TABLE}`, `delete table inet ${NODE_TABLE}`, `table inet ${NODE_TABLE} {`];
  blocks.forEach((b, i) => {
    if (i > 0) out.push('');
    out.push(...b);
  });
  out.push('}', '');
  return out.join('\n');
}
