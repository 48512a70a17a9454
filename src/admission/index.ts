/**
 * Admission: the pure engine behind the webhook and `netintent admit`. Reviews Pods,
 * NetworkPolicies and IntentSets against compiled intents; never writes anything.
 */
export {
  ADMISSION_API_VERSION,
  ADMISSION_KIND,
  MAX_WARNING_LENGTH,
  parseAdmissionReview,
  review,
  reviewedKind,
  serialiseAdmissionResponse,
  serialiseBadRequest,
  serialiseInternalError,
  type AdmissionContext,
  type AdmissionOperation,
  type AdmissionRequest,
  type AdmissionResponse,
  type AdmissionReviewResponse,
} from './review.js';
export type { CompileTexts } from './validate-intent-set.js';
export {
  ANTREA_IPPOOLS,
  ANTREA_POD_IPS,
  CALICO_IP_ADDRS,
  CNI_FLAVOURS,
  EGRESS_BANDWIDTH,
  INGRESS_BANDWIDTH,
  KUBE_OVN_IP_ADDRESS,
  KUBE_OVN_IP_POOL,
  MULTUS_NETWORKS,
  NETINTENT_EGRESS_GATEWAY,
  NETINTENT_IP,
  NETINTENT_POOL,
  type CniFlavour,
} from './annotations.js';
