/**
 * IPAM back end: the IPAM plan rendered from the IR (pure), and the runtime pieces the
 * `netintent-ipam` CNI plugin and `netintent ipam` share: plan layout, allocation core,
 * lease stores, CNI operations, audit, and the daemon the native shim talks to.
 * (plugin-main.ts imports cni.ts directly, not this face, so that a plugin cold start
 * never loads the audit's YAML reader.)
 */
export { renderIpamPlan, parseIpamPlan, IPAM_PLAN_VERSION, type IpamPlan } from './plan.js';
export { readIpamConfig, readStoreConfig, type IpamConfig, type StoreConfig } from './config.js';
export { PlanLayout, type PoolLayout } from './layout.js';
export { decideClaims, entitledPools, type Claim, type PodFacts } from './allocation.js';
export { readAddressRequest, IP_ANNOTATION, POOL_ANNOTATION, type AddressRequest } from './requests.js';
export { addAttachment, deleteAttachment, checkAttachment, gcAttachments, applyGcActions, type Attachment, type GcOutcome } from './operations.js';
export { auditLeases, decideInventoryGc, type LeaseAudit, type GcAction } from './audit.js';
export { readStatefulSets } from './statefulsets.js';
export { openLeaseStore, type LeaseStore } from './store/index.js';
export { runCni, SUPPORTED_CNI_VERSIONS } from './cni.js';
export { serveIpam, DEFAULT_SOCKET_PATH, type IpamDaemon } from './daemon/index.js';
export { CniCode, IpamError } from './errors.js';
export type { Lease, LeaseRecord } from './lease.js';
