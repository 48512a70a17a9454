/**
 * Mutation of pods: the annotations the node side reads (fixed IP, pool, rates, egress
 * gateways, and optionally the configured CNI's own fixed-IP annotations). Deterministic
 * and idempotent: mutating the output again changes nothing.
 */
import jsonPatch from 'fast-json-patch';
import {
  ANTREA_IPPOOLS,
  ANTREA_POD_IPS,
  CALICO_IP_ADDRS,
  EGRESS_BANDWIDTH,
  INGRESS_BANDWIDTH,
  KUBE_OVN_IP_ADDRESS,
  KUBE_OVN_IP_POOL,
  NETINTENT_EGRESS_GATEWAY,
  NETINTENT_IP,
  NETINTENT_POOL,
  readFixedAddressRequests,
  type CniFlavour,
} from './annotations.js';
import { workloadPool, type AdmissionIndex } from './ir-index.js';
import { groupsOfPod, intendedAddresses, isObject, type JsonObject, type PodFacts } from './pod.js';
import { bandwidthProblem, formatBitRate, parseQuantity } from './quantity.js';

export interface PodMutation {
  /** JSON Patch (RFC 6902) turning the request object into the mutated one; [] when nothing changes. */
  patch: jsonPatch.Operation[];
  /** Annotation keys the patch sets, changes or removes, sorted. */
  changed: string[];
}

/** The lowest rate any limit on one of the pod's groups sets in `direction` (limits combine by the strictest). */
function strictestRate(index: AdmissionIndex, groups: Set<string>, direction: 'ingressBps' | 'egressBps'): number | undefined {
  let rate: number | undefined;
  for (const group of groups) {
    for (const limit of index.rateLimitsByGroup.get(group) ?? []) {
      const bps = limit[direction];
      if (bps !== undefined) rate = rate === undefined ? bps : Math.min(rate, bps);
    }
  }
  return rate;
}

/** The pod's annotations as the node side needs them. */
function wantedAnnotations(index: AdmissionIndex, pod: PodFacts, cni: CniFlavour | undefined): Record<string, string> {
  const wanted = { ...pod.annotations };

  const intended = intendedAddresses(index, pod);
  if (intended) {
    wanted[NETINTENT_IP] = intended.ips.join(',');
  } else if (wanted[NETINTENT_IP] === undefined) {
    // Carry a CNI-flavoured request over to the annotation the IPAM plugin reads.
    const request = readFixedAddressRequests(wanted).addresses.find((a) => a.annotation !== KUBE_OVN_IP_POOL);
    if (request) wanted[NETINTENT_IP] = request.ips.join(',');
  }
  const w = pod.workload;
  // A StatefulSet pod gets its pool by name: the IPAM plugin gives ordinal N address N.
  const ownPool = w ? workloadPool(index, w.kind, pod.namespace, w.name) : undefined;
  if (ownPool) {
    wanted[NETINTENT_POOL] = ownPool.name;
  } else if (wanted[NETINTENT_POOL] === undefined) {
    const requested = readFixedAddressRequests(wanted).pools.flatMap((r) => r.pools).filter((n) => index.poolsByName.has(n));
    const tenantPools = pod.tenant ? index.tenantPools.get(pod.tenant.id)!.map((p) => p.name) : [];
    const pools = requested.length ? requested : tenantPools;
    if (pools.length) wanted[NETINTENT_POOL] = [...new Set(pools)].join(',');
  }

  const groups = groupsOfPod(index, pod);
  for (const [key, direction] of [[INGRESS_BANDWIDTH, 'ingressBps'], [EGRESS_BANDWIDTH, 'egressBps']] as const) {
    const rate = strictestRate(index, groups, direction);
    if (rate === undefined) continue;
    const current = wanted[key];
    // A malformed value is left for validation to reject; a stricter one is kept.
    if (current !== undefined && (bandwidthProblem(current) || parseQuantity(current)! <= rate)) continue;
    wanted[key] = formatBitRate(rate);
  }

  const gateways = index.egressGateways.filter((g) => g.groups.some((id) => groups.has(id))).map((g) => g.gateway.name).sort();
  if (gateways.length) wanted[NETINTENT_EGRESS_GATEWAY] = gateways.join(',');
  else delete wanted[NETINTENT_EGRESS_GATEWAY];

  // The configured CNI's own annotations: what the intents decide overrides them; anything
  // else fills them only when the pod did not set them itself.
  const ips = wanted[NETINTENT_IP]?.split(',');
  const pool = wanted[NETINTENT_POOL];
  const fill = (key: string, value: string | undefined, decided: boolean): void => {
    if (value !== undefined && (decided || wanted[key] === undefined)) wanted[key] = value;
  };
  switch (cni) {
    case 'calico':
      fill(CALICO_IP_ADDRS, ips && JSON.stringify(ips), intended !== undefined);
      break;
    case 'kube-ovn':
      fill(KUBE_OVN_IP_ADDRESS, ips?.join(','), intended !== undefined);
      break;
    case 'antrea':
      fill(ANTREA_POD_IPS, ips?.join(','), intended !== undefined);
      fill(ANTREA_IPPOOLS, pool, ownPool !== undefined);
      break;
    case undefined:
      break;
  }
  return wanted;
}

export function mutatePod(index: AdmissionIndex, pod: PodFacts, object: JsonObject, cni: CniFlavour | undefined): PodMutation {
  const wanted = wantedAnnotations(index, pod, cni);
  const meta = isObject(object.metadata) ? object.metadata : undefined;
  const current = pod.annotations;
  const changed = [...new Set([...Object.keys(current), ...Object.keys(wanted)])].filter((k) => current[k] !== wanted[k]).sort();
  if (changed.length === 0) return { patch: [], changed };
  // Diff before and after: compare() creates missing parents, escapes `/` as `~1` and
  // touches only the annotations that differ. Only metadata changes, so only it is walked.
  const annotations: Record<string, unknown> = { ...(isObject(meta?.annotations) ? meta.annotations : {}), ...wanted };
  for (const key of changed) if (wanted[key] === undefined) delete annotations[key];
  const before = meta === undefined ? {} : { metadata: meta };
  return { patch: jsonPatch.compare(before, { metadata: { ...meta, annotations } }), changed };
}
