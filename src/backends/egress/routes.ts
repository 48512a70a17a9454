/**
 * Policy routing for egress gateways (pure): on a node that is not the active gateway,
 * marked packets look up the gateway's table, whose default route goes to the active
 * gateway node (or is unreachable when none is healthy: fail closed, never leave with the
 * pod IP). On the active gateway the egress IPs are assigned to the uplink instead.
 */
import type { EgressPlan } from './plan.js';

/** Before the main table (32766), after local (0). */
export const RULE_PRIORITY = 15000;

export interface EgressRoutes {
  /** `ip rule` fwmark → table (same number). */
  rules: number[];
  /** Table → next hop (node address) or `unreachable`. */
  routes: { table: number; via?: string }[];
  /** Egress IPs this node must hold on its uplink. */
  addresses: string[];
}

export function renderEgressRoutes(plan: EgressPlan, active: ReadonlyMap<string, string | undefined>): EgressRoutes {
  const out: EgressRoutes = { rules: [], routes: [], addresses: [] };
  for (const gw of plan.gateways) {
    const activeNode = active.get(gw.id);
    if (activeNode === plan.node) {
      out.addresses.push(...gw.egressIps);
      continue;
    }
    if (gw.sources.length === 0) continue;
    out.rules.push(gw.mark);
    const via = gw.candidates.find((c) => c.node === activeNode)?.address;
    out.routes.push({ table: gw.mark, ...(via ? { via } : {}) });
  }
  out.rules.sort((a, b) => a - b);
  out.addresses = [...new Set(out.addresses)].sort();
  return out;
}

/** The same as `ip` commands, for dry runs and logs. */
export function egressRouteCommands(r: EgressRoutes, uplink = '<uplink>'): string[] {
  return [
    ...r.rules.map((m) => `ip rule add fwmark 0x${m.toString(16)} lookup ${m} priority ${RULE_PRIORITY}`),
    ...r.routes.map((x) => (x.via ? `ip route replace default via ${x.via} table ${x.table}` : `ip route replace unreachable default table ${x.table}`)),
    ...r.addresses.map((a) => `ip addr add ${a}/${a.includes(':') ? 128 : 32} dev ${uplink}`),
  ];
}
