/**
 * The node agent: the edge that applies the back ends' output on one node (nft, L7
 * proxies, tc, routes) once (`NodeAgent.apply`) or in a reconcile loop (`startAgentLoop`).
 */
export { NodeAgent, DEFAULT_STATE_DIR, type AgentOptions, type ApplyReport } from './agent.js';
export { startAgentLoop, summary, type RunOptions, type RunningAgent } from './run.js';
export { planNode, renderDryRun, type NodePlan } from './plan.js';
export { readNetSnapshot, resolveHostInterfaces, type NetSnapshot } from './interfaces.js';
export { DEFAULT_HEALTH_PORT } from './health.js';
export { NodeL7Proxies, type NodeL7Options } from './l7.js';
export type { ProxyState } from './supervise.js';
