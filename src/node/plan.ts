/**
 * Everything the agent will do on one node, computed purely from the IR and inventory:
 * the nftables back end's script (the L7 back end's when HTTP, DNS or FQDN rules need the
 * proxies, with their configurations), the tc plan, the egress plan. `renderDryRun` prints it
 * (for `node apply --dry-run`) with the interfaces found so far.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Ir } from '../ir/types.js';
import type { Inventory } from '../inventory/index.js';
import { nodeHeader, NodeRulesetState, renderScript } from '../backends/nftables/index.js';
import { needsL7, renderNodeL7, type NodeL7Output } from '../backends/l7/index.js';
import { ifbName, needsIfb, podTcCommands, renderTcPlan, type LeafKind, type TcPlan } from '../backends/tc/index.js';
import { egressRouteCommands, renderEgressPlan, renderEgressRoutes, renderNodeTable, type EgressPlan, type PodInterface } from '../backends/egress/index.js';

export interface NodePlan {
  node: string;
  nftScript: string;
  /** What the L7 proxies run; absent when no rule needs them. */
  l7?: NodeL7Output;
  tc: TcPlan;
  egress: EgressPlan;
  diagnostics: Diagnostic[];
}

/**
 * The node's `inet netintent` table in full: with the L7 steering when the intents need the
 * proxies; otherwise with the state that later pod churn is updated from.
 */
export function renderMainTable(ir: Ir, inventory: Inventory, node: string): { script: string; diagnostics: Diagnostic[]; l7?: NodeL7Output; state?: NodeRulesetState } {
  if (!needsL7(ir, inventory)) {
    const state = NodeRulesetState.build(ir, inventory, node);
    return { script: renderScript(state.ruleset, nodeHeader(node)), diagnostics: state.diagnostics, state };
  }
  const l7 = renderNodeL7(ir, inventory, node);
  return { script: l7.nftScript, diagnostics: l7.diagnostics, l7 };
}

export function planNode(ir: Ir, inventory: Inventory, node: string): NodePlan {
  const nft = renderMainTable(ir, inventory, node);
  const tc = renderTcPlan(ir, inventory, node);
  const egress = renderEgressPlan(ir, inventory, node);
  return { node, nftScript: nft.script, ...(nft.l7 ? { l7: nft.l7 } : {}), tc: tc.plan, egress: egress.plan, diagnostics: [...nft.diagnostics, ...tc.diagnostics, ...egress.diagnostics] };
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

/** The proxies' configurations, for the dry run (the steering is in the nft script). */
function l7Sections(l7: NodeL7Output): string[] {
  return [
    ...(l7.haproxyConfig ? ['# --- HAProxy (haproxy.cfg; the agent runs it, HTTP rules) ---', l7.haproxyConfig.trimEnd(), ''] : []),
    ...Object.entries(l7.haproxyAcls).flatMap(([file, patterns]) => [`# --- HAProxy ${file} (sources of an HTTP rule group; updated without a reload) ---`, ...patterns, '']),
    ...l7.dnsmasq.flatMap((d) => [`# --- dnsmasq ${d.instance} (port ${d.port}; the agent runs it, DNS rules and FQDN sets) ---`, d.config.trimEnd(), '']),
  ];
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
    ...(plan.l7 ? l7Sections(plan.l7) : []),
    '# --- tc (tc -batch -) ---',
    ...tcLines,
    '',
    '# --- routes (egress gateways; active = first candidate) ---',
    ...egressRouteCommands(renderEgressRoutes(plan.egress, active), uplink),
    '',
  ].join('\n');
}
