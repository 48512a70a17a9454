/**
 * IR + inventory → the egress-gateway plan of one node (pure): per gateway the ordered
 * candidate nodes, the selected pods' IPs cluster-wide, the destinations with the
 * excluded CIDRs subtracted, and the firewall mark / routing table derived from its id.
 */
import { diag, type Diagnostic } from '../../diagnostics/diagnostic.js';
import type { Ir, IrEgressGateway } from '../../ir/types.js';
import type { Inventory } from '../../inventory/index.js';
import { familyOf } from '../../ir/address.js';
import { matchesSelector } from '../../ir/selector.js';
import { SelectorResolver, setContains, cidrToRange, rangeToCidrs } from '../../resolve/index.js';
import { normalizeRanges, subtractRanges } from '../../resolve/ranges.js';
import { shortHash, sortElements } from '../nftables/model.js';

export interface GatewayCandidate {
  node: string;
  /** The node's first (InternalIP) address: next hop towards it and health-probe target. */
  address: string;
}

export interface EgressGatewayPlan {
  id: string;
  name: string;
  /** Failover order: the first healthy candidate is the active gateway. */
  candidates: GatewayCandidate[];
  /** Primary IPs of the selected pods on every node (the gateway SNATs them all). */
  sources: string[];
  /** Destination CIDRs, excluded blocks already subtracted; address order. */
  destinations: string[];
  egressIps: string[];
  /** Firewall mark and routing table (same number), derived from the id. */
  mark: number;
}

export interface EgressPlan {
  node: string;
  gateways: EgressGatewayPlan[];
}

/** 0x4e49 ("NI") in the high half, a content hash in the low half. */
function egressMark(id: string): number {
  return 0x4e490000 + parseInt(shortHash(id).slice(0, 4), 16);
}

function candidatesOf(gw: IrEgressGateway, inventory: Inventory): GatewayCandidate[] {
  const fits = (name: string): boolean => {
    const node = inventory.nodes.find((n) => n.name === name);
    return node !== undefined && (gw.nodeSelector === undefined || matchesSelector(gw.nodeSelector, node.labels));
  };
  // Named nodes first in their order, then the rest of the selector's nodes by name.
  const named = gw.nodes.filter(fits);
  const selected = gw.nodeSelector ? inventory.nodes.map((n) => n.name).filter((n) => !named.includes(n) && fits(n)) : [];
  return [...named, ...selected].flatMap((name) => {
    const address = inventory.nodes.find((n) => n.name === name)?.addresses[0];
    return address ? [{ node: name, address }] : [];
  });
}

export function renderEgressPlan(ir: Ir, inventory: Inventory, node: string): { plan: EgressPlan; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const resolver = new SelectorResolver(ir, inventory);
  const gateways = ir.egressGateways.map((gw): EgressGatewayPlan => {
    const set = resolver.groupUnion(gw.pods);
    const sources = inventory.pods.filter((p) => !p.hostNetwork).flatMap((p) => p.ips.filter((ip) => setContains(set, ip)));
    const ranges = subtractRanges(normalizeRanges(gw.destinations.map(cidrToRange)), normalizeRanges(gw.except.map(cidrToRange)));
    const candidates = candidatesOf(gw, inventory);
    if (candidates.length === 0) diagnostics.push(diag('NI8205', undefined, [gw.name]));
    return { id: gw.id, name: gw.name, candidates, sources: sortElements(sources), destinations: sortElements(ranges.flatMap(rangeToCidrs)), egressIps: gw.egressIps, mark: egressMark(gw.id) };
  });
  return { plan: { node, gateways }, diagnostics };
}

export const ipsOfFamily = (ips: readonly string[], f: 4 | 6): string[] => ips.filter((ip) => familyOf(ip.split('/')[0]!) === f);
