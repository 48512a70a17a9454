/**
 * tc back end: where a rate intent becomes qdiscs. `renderTcPlan` decides the figures per
 * pod (pure); `podTcCommands` turns one pod's figures into `tc -batch` lines once the agent
 * knows the pod's host-side interface. Applying is the agent's edge (src/node/tc.ts).
 */
export { renderTcPlan, type TcPlan, type PodShaping, type Netem } from './plan.js';
export { podTcCommands, removeTcCommands, needsIfb, ifbName, burstBytes, LEAF_LATENCY_MS, ROOT_HANDLE, type LeafKind, type DevState } from './commands.js';
export { parseQuantity } from './quantity.js';
