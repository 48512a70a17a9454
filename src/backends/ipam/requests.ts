/**
 * Addresses and pools a pod asks for, from the runtime (CNI `runtimeConfig.ips`,
 * `args.cni.ips`) or from its annotations, in netintent's own form or in the forms of
 * Calico, Kube-OVN and Antrea so that migrated workloads keep working. Pure.
 */
import { canonicalIp } from './addresses.js';

/** Comma-separated IPs, at most one per family: `10.10.0.5` or `10.10.0.5,fd00:10::5`. */
export const IP_ANNOTATION = 'netintent.dev/ip';
/** Comma-separated pool names of the plan; the first free address of one per family. */
export const POOL_ANNOTATION = 'netintent.dev/pool';

export const CALICO_IP_ADDRS = 'cni.projectcalico.org/ipAddrs';
export const OVN_IP_ADDRESS = 'ovn.kubernetes.io/ip_address';
export const OVN_IP_POOL = 'ovn.kubernetes.io/ip_pool';
export const ANTREA_IPPOOLS = 'ipam.antrea.io/ippools';
export const ANTREA_POD_IPS = 'ipam.antrea.io/pod-ips';

export type AddressRequest =
  | { kind: 'none' }
  /** Exactly these addresses (one per family). */
  | { kind: 'ips'; ips: string[]; source: string }
  /** One free address per family out of this list (Kube-OVN ip_pool; StatefulSet pod N takes entry N). */
  | { kind: 'choice'; ips: string[]; source: string }
  /** A free address from these pools of the plan (by name). */
  | { kind: 'pools'; pools: string[]; source: string };

export class RequestError extends Error {
  constructor(
    readonly source: string,
    readonly value: string,
    reason: string,
  ) {
    super(reason);
  }
}

function splitList(text: string): string[] {
  return text
    .split(/[,;\s]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** IPs, optionally with a prefix length (runtimeConfig form `10.1.2.3/24`), canonical. */
function parseIps(values: unknown[], source: string): string[] {
  return values.map((raw) => {
    const text = typeof raw === 'string' ? raw.split('/')[0]! : '';
    const ip = canonicalIp(text);
    if (ip === undefined) throw new RequestError(source, String(raw), 'not an IP address');
    return ip;
  });
}

function jsonList(text: string, source: string): unknown[] {
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value)) return value;
  } catch {
    // reported below
  }
  throw new RequestError(source, text, 'expected a JSON list of IP addresses');
}

export interface RequestInputs {
  runtimeIps?: unknown;
  argsIps?: unknown;
  annotations: Readonly<Record<string, string>>;
}

/**
 * The request that applies: the first source that says something, in this order:
 * runtimeConfig.ips, args.cni.ips, then the annotations (IPs before pools; netintent's own
 * before Calico, Kube-OVN, Antrea). Throws RequestError for a malformed value.
 */
export function readAddressRequest(inputs: RequestInputs): AddressRequest {
  if (Array.isArray(inputs.runtimeIps) && inputs.runtimeIps.length > 0) {
    return { kind: 'ips', ips: parseIps(inputs.runtimeIps, 'runtimeConfig.ips'), source: 'runtimeConfig.ips' };
  }
  if (Array.isArray(inputs.argsIps) && inputs.argsIps.length > 0) {
    return { kind: 'ips', ips: parseIps(inputs.argsIps, 'args.cni.ips'), source: 'args.cni.ips' };
  }
  const a = inputs.annotations;
  const annotation = (key: string): string | undefined => (a[key] !== undefined && a[key]!.trim() !== '' ? a[key] : undefined);
  const ipSources: [string, (text: string) => unknown[]][] = [
    [IP_ANNOTATION, splitList],
    [CALICO_IP_ADDRS, (t) => jsonList(t, CALICO_IP_ADDRS)],
    [OVN_IP_ADDRESS, splitList],
    [ANTREA_POD_IPS, splitList],
  ];
  for (const [key, split] of ipSources) {
    const text = annotation(key);
    if (text !== undefined) return { kind: 'ips', ips: parseIps(split(text), key), source: `annotation ${key}` };
  }
  const poolText = annotation(POOL_ANNOTATION);
  if (poolText !== undefined) return { kind: 'pools', pools: splitList(poolText), source: `annotation ${POOL_ANNOTATION}` };
  const ovnPool = annotation(OVN_IP_POOL);
  if (ovnPool !== undefined) {
    // Kube-OVN takes either an address list or IPPool names.
    const entries = splitList(ovnPool);
    return entries.every((e) => canonicalIp(e) !== undefined)
      ? { kind: 'choice', ips: parseIps(entries, OVN_IP_POOL), source: `annotation ${OVN_IP_POOL}` }
      : { kind: 'pools', pools: entries, source: `annotation ${OVN_IP_POOL}` };
  }
  const antreaPools = annotation(ANTREA_IPPOOLS);
  if (antreaPools !== undefined) return { kind: 'pools', pools: splitList(antreaPools), source: `annotation ${ANTREA_IPPOOLS}` };
  return { kind: 'none' };
}
