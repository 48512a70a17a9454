/**
 * The node agent: the edge that applies the back ends' output on one node (nft, tc,
 * routes) once (`NodeAgent.apply`) or in a reconcile loop (`startAgentLoop`).
 */
export { NodeAgent, type AgentOptions, type ApplyReport } from './agent.js';
export { startAgentLoop, summary, type RunOptions, type RunningAgent } from './run.js';
export { planNode, renderDryRun, type NodePlan } from './plan.js';
export { readNetSnapshot, resolveHostInterfaces, type NetSnapshot } from './interfaces.js';
export { DEFAULT_HEALTH_PORT } from './health.js';
