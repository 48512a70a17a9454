/**
 * tc back end: where a rate intent becomes qdiscs. `renderTcPlan` decides the figures per
 * pod (pure); `podTcCommands` turns one pod's figures into `tc -batch` lines once the agent
 * knows the pod's host-side interface. Applying is the agent's edge (src/node/tc.ts).
 */
export { renderTcPlan, INGRESS_ANNOTATION, EGRESS_ANNOTATION, type TcPlan, type PodShaping, type Netem } from './plan.js';
export { podTcCommands, removeTcCommands, needsIfb, ifbName, burstBytes, queueBytes, ROOT_HANDLE, CLASS_ID, type LeafKind, type DevState } from './commands.js';
export { parseQuantity } from './quantity.js';
