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

interface TableSet {
  name: string;
  type: string;
  interval: boolean;
  comment: string;
  elements: string[];
}

/** The table as data: sets (elements change with pods) and chains (change with the IR or the active gateway). */
export interface NodeTableModel {
  sets: TableSet[];
  chains: { name: string; hook: string; rules: string[] }[];
}

export function buildNodeTable(input: NodeTableInput): NodeTableModel {
  const { egress, active } = input;
  const sets: TableSet[] = [];
  const ifs = [...new Set(input.interfaces.map((i) => i.ifname))].sort();
  sets.push({ name: 'pod_ifs', type: 'ifname', interval: false, comment: 'host-side interfaces of local pods', elements: ifs.map((i) => `"${i}"`) });
  for (const f of [4, 6] as const) {
    const pairs = input.interfaces.flatMap((i) => ipsOfFamily(i.ips, f).map((ip) => `"${i.ifname}" . ${ip}`)).sort();
    sets.push({ name: `src_ok${f}`, type: `ifname . ${addrType(f)}`, interval: false, comment: 'the addresses each pod interface may send from', elements: pairs });
  }
  const mark: string[] = [];
  const snat: string[] = [];
  for (const gw of egress.gateways) {
    const activeNode = active.get(gw.id);
    const base = `egw_${gw.mark.toString(16)}`;
    for (const f of [4, 6] as const) {
      const dests = ipsOfFamily(gw.destinations, f);
      const egressIp = ipsOfFamily(gw.egressIps, f)[0];
      if (dests.length === 0 || (activeNode === egress.node && !egressIp)) continue;
      // The sources set exists even when empty, so that pods coming and going only change elements.
      sets.push({ name: `${base}_src${f}`, type: addrType(f), interval: false, comment: `egress gateway ${gw.name}: selected pods`, elements: sortElements(ipsOfFamily(gw.sources, f)) });
      sets.push({ name: `${base}_dst${f}`, type: addrType(f), interval: true, comment: `egress gateway ${gw.name}: destinations`, elements: dests });
      const match = `${ipKw(f)} saddr @${base}_src${f} ${ipKw(f)} daddr @${base}_dst${f}`;
      if (activeNode === egress.node) snat.push(`${match} snat ${ipKw(f)} to ${egressIp} ${comment(`${gw.id}: leave with the egress IP`)}`);
      else mark.push(`${match} meta mark set ${hex(gw.mark)} ${comment(`${gw.id}: route via gateway ${activeNode ?? '(none healthy)'}`)}`);
    }
  }
  return {
    sets,
    chains: [
      {
        name: 'antispoof',
        hook: 'type filter hook prerouting priority raw; policy accept;',
        rules: [
          `iifname != @pod_ifs accept ${comment('not from a pod')}`,
          `iifname . ip saddr @src_ok4 accept ${comment("one of the pod's IPv4 addresses")}`,
          `iifname . ip6 saddr @src_ok6 accept ${comment("one of the pod's IPv6 addresses")}`,
          `ip6 saddr { ::, fe80::/10 } accept ${comment('neighbour discovery and DAD')}`,
          `counter drop ${comment("source address not among the pod's IPs")}`,
        ],
      },
      { name: 'egress_mark', hook: 'type filter hook prerouting priority mangle; policy accept;', rules: mark },
      { name: 'egress_snat', hook: 'type nat hook postrouting priority srcnat; policy accept;', rules: snat },
    ],
  };
}

function renderSet(set: TableSet): string[] {
  return [`\tset ${set.name} {`, `\t\ttype ${set.type}`, ...(set.interval ? ['\t\tflags interval'] : []), `\t\t${comment(set.comment)}`, ...(set.elements.length ? [`\t\telements = { ${set.elements.join(',\n\t\t\t     ')} }`] : []), '\t}'];
}

export function renderNodeTable(input: NodeTableInput): string {
  return renderNodeTableModel(buildNodeTable(input), input.egress.node);
}

export function renderNodeTableModel(model: NodeTableModel, node: string): string {
  const blocks = [...model.sets.map(renderSet), ...model.chains.map((c) => [`\tchain ${c.name} {`, `\t\t${c.hook}`, ...c.rules.map((r) => `\t\t${r}`), '\t}'])];
  const out = ['#!/usr/sbin/nft -f', `# netintent node table for node ${node}: anti-spoofing and egress gateways, generated, do not edit.`, `add table inet ${NODE_TABLE}`, `delete table inet ${NODE_TABLE}`, `table inet ${NODE_TABLE} {`];
  blocks.forEach((b, i) => {
    if (i > 0) out.push('');
    out.push(...b);
  });
  out.push('}', '');
  return out.join('\n');
}

/**
 * From one model to the next: element additions and deletions when only pods changed
 * (same sets, same chains), `undefined` when the table must be replaced, '' for no change.
 */
export function renderNodeTableUpdate(a: NodeTableModel, b: NodeTableModel): string | undefined {
  const shape = (m: NodeTableModel): string => JSON.stringify([m.sets.map((s) => [s.name, s.type, s.interval, s.comment]), m.chains]);
  if (shape(a) !== shape(b)) return undefined;
  const lines: string[] = [];
  b.sets.forEach((set, i) => {
    const before = new Set(a.sets[i]!.elements);
    const after = new Set(set.elements);
    const removed = [...before].filter((e) => !after.has(e));
    const added = set.elements.filter((e) => !before.has(e));
    if (removed.length) lines.push(`delete element inet ${NODE_TABLE} ${set.name} { ${removed.join(', ')} }`);
    if (added.length) lines.push(`add element inet ${NODE_TABLE} ${set.name} { ${added.join(', ')} }`);
  });
  return lines.length ? ['# netintent node table element update', ...lines, ''].join('\n') : '';
}
