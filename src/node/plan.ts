/**
 * Everything the agent will do on one node, computed purely from the IR and inventory:
 * the nftables back end's script, the tc plan, the egress plan. `renderDryRun` prints it
 * (for `node apply --dry-run`) with the interfaces found so far.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Ir } from '../ir/types.js';
import type { Inventory } from '../inventory/index.js';
import { renderNodeRuleset } from '../backends/nftables/index.js';
import { ifbName, needsIfb, podTcCommands, renderTcPlan, type LeafKind, type TcPlan } from '../backends/tc/index.js';
import { egressRouteCommands, renderEgressPlan, renderEgressRoutes, renderNodeTable, type EgressPlan, type PodInterface } from '../backends/egress/index.js';

export interface NodePlan {
  node: string;
  nftScript: string;
  tc: TcPlan;
  egress: EgressPlan;
  diagnostics: Diagnostic[];
}

export function planNode(ir: Ir, inventory: Inventory, node: string): NodePlan {
  const nft = renderNodeRuleset(ir, inventory, node);
  const tc = renderTcPlan(ir, inventory, node);
  const egress = renderEgressPlan(ir, inventory, node);
  return { node, nftScript: nft.script, tc: tc.plan, egress: egress.plan, diagnostics: [...nft.diagnostics, ...tc.diagnostics, ...egress.diagnostics] };
}

/** Local pods (primary IPs) with their host-side interface where one was found. */
export function podInterfaces(inventory: Inventory, node: string, hostIf: ReadonlyMap<string, string>): PodInterface[] {
  return inventory.pods.flatMap((p) => {
    if (p.nodeName !== node || p.hostNetwork || p.ips.length === 0) return [];
    const ifname = hostIf.get(p.ips[0]!);
    return ifname ? [{ pod: `${p.namespace}/${p.name}`, ifname, ips: p.ips }] : [];
  });
}

/** The first candidate of each gateway: what a dry run assumes (no probing). */
export function firstCandidates(egress: EgressPlan): Map<string, string | undefined> {
  return new Map(egress.gateways.map((g) => [g.id, g.candidates[0]?.node]));
}

export function renderDryRun(plan: NodePlan, inventory: Inventory, hostIf: ReadonlyMap<string, string>, leaf: LeafKind = 'fq_codel', uplink?: string): string {
  const active = firstCandidates(plan.egress);
  const tcLines: string[] = [];
  for (const s of plan.tc.pods) {
    const dev = hostIf.get(s.ips[0]!) ?? `<host-if:${s.pod}>`;
    tcLines.push(`# ${s.pod}: ${s.reasons.join(', ')}`);
    if (needsIfb(s)) tcLines.push(`# ip link add ${ifbName(dev)} type ifb && ip link set ${ifbName(dev)} up`);
    tcLines.push(...podTcCommands(s, dev, leaf, { hostRootIsOurs: false, ifbRootIsOurs: false }));
  }
  return [
    '# --- nftables: table inet netintent (nft -f, atomic) ---',
    plan.nftScript.trimEnd(),
    '',
    '# --- nftables: table inet netintent_node (anti-spoofing, egress gateways; nft -f, atomic) ---',
    renderNodeTable({ egress: plan.egress, active, interfaces: podInterfaces(inventory, plan.node, hostIf) }).trimEnd(),
    '',
    '# --- tc (tc -batch -) ---',
    ...tcLines,
    '',
    '# --- routes (egress gateways; active = first candidate) ---',
    ...egressRouteCommands(renderEgressRoutes(plan.egress, active), uplink),
    '',
  ].join('\n');
}
