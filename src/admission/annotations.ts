/**
 * Pod annotations the admission engine reads and writes, and their parsers.
 * netintent's own annotations are what the node side (IPAM plugin, agent) reads; the CNI
 * flavours are read so that a fixed-IP request written for Calico, Kube-OVN or Antrea is
 * held to the same intents, and written when the webhook is configured for that CNI.
 */
import ipaddr from 'ipaddr.js';
import { isCanonicalIpv4 } from '../ir/address.js';

/** Comma list of the pod's fixed addresses (one per family). */
export const NETINTENT_IP = 'netintent.dev/ip';
/** Comma list of pool names the IPAM plugin allocates from. */
export const NETINTENT_POOL = 'netintent.dev/pool';
/** Comma list of the egress gateways whose traffic the pod's egress goes through. */
export const NETINTENT_EGRESS_GATEWAY = 'netintent.dev/egress-gateway';

export const INGRESS_BANDWIDTH = 'kubernetes.io/ingress-bandwidth';
export const EGRESS_BANDWIDTH = 'kubernetes.io/egress-bandwidth';
export const MULTUS_NETWORKS = 'k8s.v1.cni.cncf.io/networks';

export const CALICO_IP_ADDRS = 'cni.projectcalico.org/ipAddrs';
export const KUBE_OVN_IP_ADDRESS = 'ovn.kubernetes.io/ip_address';
export const KUBE_OVN_IP_POOL = 'ovn.kubernetes.io/ip_pool';
export const ANTREA_POD_IPS = 'ipam.antrea.io/pod-ips';
export const ANTREA_IPPOOLS = 'ipam.antrea.io/ippools';

export type CniFlavour = 'calico' | 'kube-ovn' | 'antrea';
export const CNI_FLAVOURS: readonly CniFlavour[] = ['antrea', 'calico', 'kube-ovn'];

/** `metadata.annotations["KEY"]`, the field path used in messages. */
export function annotationPath(key: string): string {
  return `metadata.annotations["${key}"]`;
}

export interface AddressRequest {
  annotation: string;
  /** Canonical text (ipaddr.js `process` form). */
  ips: string[];
}
export interface PoolRequest {
  annotation: string;
  pools: string[];
  /** netintent's own annotation must name a declared pool; CNI pools may be the CNI's own objects. */
  mustExist: boolean;
}
export interface AnnotationProblem {
  annotation: string;
  value: string;
  reason: string;
}

export interface FixedAddressRequests {
  addresses: AddressRequest[];
  pools: PoolRequest[];
  problems: AnnotationProblem[];
}

function canonicalIp(text: string): string | undefined {
  // Kube-OVN accepts `IP/PREFIX`; the prefix says nothing about which address is asked for.
  const bare = text.trim().replace(/\/\d{1,3}$/, '');
  if (isCanonicalIpv4(bare)) return bare;
  // The general parser also takes IPv6 and the forms inet_aton knows (`010.1`, `0xa.0.0.1`).
  return ipaddr.isValid(bare) ? ipaddr.process(bare).toString() : undefined;
}

function commaList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Every fixed-address and pool request a pod's annotations make, in every flavour. */
export function readFixedAddressRequests(annotations: Readonly<Record<string, string>>): FixedAddressRequests {
  const out: FixedAddressRequests = { addresses: [], pools: [], problems: [] };
  const addresses = (annotation: string, items: string[]): void => {
    const ips: string[] = [];
    for (const item of items) {
      const ip = canonicalIp(item);
      if (ip === undefined) {
        out.problems.push({ annotation, value: annotations[annotation]!, reason: `"${item}" is not an IP address` });
        return;
      }
      ips.push(ip);
    }
    if (ips.length) out.addresses.push({ annotation, ips });
  };

  const own = annotations[NETINTENT_IP];
  if (own !== undefined) addresses(NETINTENT_IP, commaList(own));
  const calico = annotations[CALICO_IP_ADDRS];
  if (calico !== undefined) {
    let list: unknown;
    try {
      list = JSON.parse(calico);
    } catch {
      list = undefined;
    }
    if (Array.isArray(list) && list.every((x) => typeof x === 'string')) addresses(CALICO_IP_ADDRS, list as string[]);
    else out.problems.push({ annotation: CALICO_IP_ADDRS, value: calico, reason: 'expected a JSON list of addresses, e.g. ["10.0.0.5"]' });
  }
  const ovn = annotations[KUBE_OVN_IP_ADDRESS];
  if (ovn !== undefined) addresses(KUBE_OVN_IP_ADDRESS, commaList(ovn));
  const antrea = annotations[ANTREA_POD_IPS];
  if (antrea !== undefined) addresses(ANTREA_POD_IPS, commaList(antrea));

  const ownPool = annotations[NETINTENT_POOL];
  if (ownPool !== undefined) out.pools.push({ annotation: NETINTENT_POOL, pools: commaList(ownPool), mustExist: true });
  const antreaPools = annotations[ANTREA_IPPOOLS];
  if (antreaPools !== undefined) out.pools.push({ annotation: ANTREA_IPPOOLS, pools: commaList(antreaPools), mustExist: false });
  // Kube-OVN's ip_pool is either a list of addresses or (1.13+) IPPool names.
  const ovnPool = annotations[KUBE_OVN_IP_POOL];
  if (ovnPool !== undefined) {
    const items = ovnPool.split(/[,;]/).map((s) => s.trim()).filter((s) => s !== '');
    if (items.length && items.every((i) => canonicalIp(i) !== undefined)) addresses(KUBE_OVN_IP_POOL, items);
    else out.pools.push({ annotation: KUBE_OVN_IP_POOL, pools: items, mustExist: false });
  }
  return out;
}

export interface NetworkSelection {
  namespace: string;
  name: string;
}

/**
 * The Multus `k8s.v1.cni.cncf.io/networks` annotation: a comma list of
 * `[NAMESPACE/]NAME[@INTERFACE]` or a JSON list of `{"name", "namespace"?, ...}` objects.
 */
export function parseNetworkSelections(value: string, podNamespace: string): NetworkSelection[] | string {
  const trimmed = value.trim();
  if (trimmed.startsWith('[')) {
    let list: unknown;
    try {
      list = JSON.parse(trimmed);
    } catch (e) {
      return `invalid JSON (${(e as Error).message})`;
    }
    if (!Array.isArray(list)) return 'expected a JSON list';
    const out: NetworkSelection[] = [];
    for (const item of list) {
      if (typeof item !== 'object' || item === null || typeof (item as { name?: unknown }).name !== 'string') {
        return 'every list entry needs a "name" string';
      }
      const { name, namespace } = item as { name: string; namespace?: unknown };
      out.push({ namespace: typeof namespace === 'string' && namespace !== '' ? namespace : podNamespace, name });
    }
    return out;
  }
  const out: NetworkSelection[] = [];
  for (const entry of commaList(trimmed)) {
    const m = /^(?:([a-z0-9.-]+)\/)?([a-z0-9.-]+)(?:@[A-Za-z0-9._-]+)?$/.exec(entry);
    if (!m) return `"${entry}" is not [NAMESPACE/]NAME[@INTERFACE]`;
    out.push({ namespace: m[1] ?? podNamespace, name: m[2]! });
  }
  return out;
}

/** Whether a tenant's network entry (`NAME` or `NAMESPACE/NAME`) names a selection. */
export function networkEntryMatches(entry: string, selection: NetworkSelection): boolean {
  return entry.includes('/') ? entry === `${selection.namespace}/${selection.name}` : entry === selection.name;
}
