/**
 * Egress gateways and the agent's own nft table (anti-spoofing, gateway marks, SNAT).
 * Pure: which gateway is active and which interface a pod has are inputs; the agent
 * (src/node) probes, routes and applies.
 */
export { renderEgressPlan, type EgressPlan, type EgressGatewayPlan, type GatewayCandidate } from './plan.js';
export { buildNodeTable, renderNodeTable, renderNodeTableModel, renderNodeTableUpdate, NODE_TABLE, type NodeTableInput, type NodeTableModel, type PodInterface } from './table.js';
export { renderEgressRoutes, egressRouteCommands, RULE_PRIORITY, type EgressRoutes } from './routes.js';
