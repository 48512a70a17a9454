/**
 * The allocation core: decides which addresses a pod may get, from the plan laid over
 * the network config, the pod's facts and its request. Pure: the edges (stores, plugin)
 * then try the claims against the lease store.
 */
import type { IrPool, IrTenant } from '../../ir/types.js';
import { tenantOwnsNamespace } from '../../ir/selector.js';
import { familyOf, type Family } from './addresses.js';
import { CniCode, ipamError, type IpamError } from './errors.js';
import type { PlanLayout, PoolLayout } from './layout.js';
import type { Lease, PodRef, StickyOrdinal } from './lease.js';
import type { AddressRequest } from './requests.js';

export interface PodFacts extends PodRef {
  /** The controlling owner reference, when the inventory knows the pod. */
  owner?: { kind: string; name: string };
  annotations: Readonly<Record<string, string>>;
  namespaceLabels: Readonly<Record<string, string>>;
}

export type Claim =
  /** Exactly this address (fixed, requested, or the StatefulSet ordinal). */
  | { kind: 'exact'; family: Family; ip: string; pool?: string; reason: string; sticky?: StickyOrdinal }
  /** Any free address of these pools, tried in order. */
  | { kind: 'free'; family: Family; pools: PoolLayout[] }
  /** Any free address of this list (Kube-OVN ip_pool). */
  | { kind: 'freeOf'; family: Family; ips: string[]; reason: string };

const podText = (pod: PodRef): string => `${pod.namespace}/${pod.name}`;

function tenantOf(layout: PlanLayout, pod: PodFacts): IrTenant | undefined {
  return layout.tenants.find((t) => tenantOwnsNamespace(t, { name: pod.namespace, labels: { ...pod.namespaceLabels } }));
}

/** StatefulSet pods are `NAME-N`; the owner reference confirms it when known. */
function statefulSetOrdinal(pod: PodFacts, statefulSet: string): number | undefined {
  if (pod.owner && !(pod.owner.kind === 'StatefulSet' && pod.owner.name === statefulSet)) return undefined;
  const prefix = `${statefulSet}-`;
  if (!pod.name.startsWith(prefix)) return undefined;
  const rest = pod.name.slice(prefix.length);
  return /^(0|[1-9][0-9]*)$/.test(rest) ? Number(rest) : undefined;
}

/** Deployment pods are `NAME-HASH-XXXXX`, owned by ReplicaSet `NAME-HASH`. */
function ownedByDeployment(pod: PodFacts, deployment: string): boolean {
  const hashOf = (name: string): string | undefined => (name.startsWith(`${deployment}-`) ? name.slice(deployment.length + 1) : undefined);
  if (pod.owner) {
    if (pod.owner.kind === 'Deployment') return pod.owner.name === deployment;
    const hash = pod.owner.kind === 'ReplicaSet' ? hashOf(pod.owner.name) : undefined;
    return hash !== undefined && /^[a-z0-9]{1,10}$/.test(hash);
  }
  const rest = hashOf(pod.name);
  return rest !== undefined && /^[a-z0-9]{1,10}-[a-z0-9]{5}$/.test(rest);
}

function workloadMatches(pool: IrPool, pod: PodFacts): boolean {
  const w = pool.workload;
  if (!w || w.namespace !== pod.namespace) return false;
  return w.kind === 'StatefulSet' ? statefulSetOrdinal(pod, w.name) !== undefined : ownedByDeployment(pod, w.name);
}

/** Pools a pod may draw from, most specific first: its workload's, its tenant's, shared ones. */
export function entitledPools(layout: PlanLayout, pod: PodFacts): PoolLayout[] {
  const workload = layout.pools.filter((p) => workloadMatches(p.pool, pod));
  if (workload.length) return workload;
  const tenant = tenantOf(layout, pod);
  if (tenant) return layout.pools.filter((p) => p.pool.tenant === tenant.name && !p.pool.workload);
  return layout.pools.filter((p) => !p.pool.tenant && !p.pool.workload);
}

/** Whether the pod may use this pool at all (asked for by name or holding a requested IP). */
function mayUse(layout: PlanLayout, pod: PodFacts, pool: IrPool): boolean {
  if (pool.workload) return workloadMatches(pool, pod);
  const tenant = tenantOf(layout, pod);
  return tenant ? pool.tenant === tenant.name : pool.tenant === undefined;
}

function oneIpPerFamily(ips: string[], pod: PodFacts, source: string): void {
  const families = ips.map(familyOf);
  if (new Set(families).size !== families.length) {
    throw ipamError(CniCode.requestRefused, 'NI8103', [ips.join(', '), podText(pod), source, 'at most one address per IP family']);
  }
}

/** Checks a requested address and returns the pool it comes from. */
function requestedIpPool(layout: PlanLayout, pod: PodFacts, ip: string, source: string): PoolLayout {
  const refuse = (reason: string): IpamError => ipamError(CniCode.requestRefused, 'NI8103', [ip, podText(pod), source, reason]);
  const fixedFor = layout.fixedOwner.get(ip);
  if (fixedFor !== undefined) throw refuse(`it is the fixed IP of ${fixedFor}`);
  const pool = layout.poolContaining(ip);
  if (!pool) throw refuse('it is in no pool of the plan');
  if (!mayUse(layout, pod, pool.pool)) throw refuse(`pool "${pool.pool.name}" is not one this pod may use`);
  if (pool.space.indexOf(ip) === undefined) throw refuse(`it is reserved in pool "${pool.pool.name}" (reserved, gateway, network or broadcast address)`);
  return pool;
}

/** The claims for one ADD: one address per family the pod gets. Throws IpamError when none fits. */
export function decideClaims(layout: PlanLayout, pod: PodFacts, request: AddressRequest): Claim[] {
  const fixed = layout.fixedIpsOf(pod.namespace, pod.name);
  if (fixed) {
    if (request.kind === 'ips' && !request.ips.every((ip) => fixed.ips.includes(ip))) {
      throw ipamError(CniCode.requestRefused, 'NI8103', [request.ips.join(', '), podText(pod), request.source, `the plan fixes this pod to ${fixed.ips.join(', ')}`]);
    }
    return fixed.ips.map((ip) => ({ kind: 'exact', family: familyOf(ip), ip, ...poolIdOf(layout, ip), reason: `fixed IP of ${fixed.id}` }));
  }
  switch (request.kind) {
    case 'ips':
      oneIpPerFamily(request.ips, pod, request.source);
      return request.ips.map((ip) => ({ kind: 'exact', family: familyOf(ip), ip, pool: requestedIpPool(layout, pod, ip, request.source).pool.id, reason: request.source }));
    case 'choice':
      return choiceClaims(layout, pod, request.ips, request.source);
    case 'pools': {
      const pools = request.pools.map((name) => {
        const found = layout.pools.find((p) => p.pool.name === name || p.pool.id === name);
        if (!found) throw ipamError(CniCode.requestRefused, 'NI8103', [`pool ${name}`, podText(pod), request.source, 'the plan has no such pool']);
        if (!mayUse(layout, pod, found.pool)) throw ipamError(CniCode.requestRefused, 'NI8103', [`pool ${name}`, podText(pod), request.source, 'it is not a pool this pod may use']);
        return found;
      });
      return poolClaims(pod, pools);
    }
    case 'none': {
      const pools = entitledPools(layout, pod);
      if (pools.length === 0) {
        const tenant = tenantOf(layout, pod);
        throw ipamError(CniCode.noPool, 'NI8102', [podText(pod), tenant ? `tenant "${tenant.name}" has no pools` : 'no fixed IP, workload pool, tenant pool or shared pool matches']);
      }
      return poolClaims(pod, pools);
    }
  }
}

function poolIdOf(layout: PlanLayout, ip: string): { pool?: string } {
  const pool = layout.poolContaining(ip);
  return pool ? { pool: pool.pool.id } : {};
}

/** Per family: the StatefulSet ordinal address of a sticky pool, else any free address. */
function poolClaims(pod: PodFacts, pools: PoolLayout[]): Claim[] {
  const claims: Claim[] = [];
  for (const family of [4, 6] as const) {
    const ofFamily = pools.filter((p) => p.pool.family === family);
    if (ofFamily.length === 0) continue;
    const sticky = ofFamily.find((p) => p.pool.workload?.kind === 'StatefulSet');
    if (sticky) {
      const statefulSet = sticky.pool.workload!.name;
      const ordinal = statefulSetOrdinal(pod, statefulSet)!;
      const ip = sticky.space.at(BigInt(ordinal));
      if (ip === undefined) {
        throw ipamError(CniCode.poolExhausted, 'NI8102', [podText(pod), `ordinal ${ordinal} is past the ${sticky.space.size} usable addresses of pool "${sticky.pool.name}"`]);
      }
      claims.push({ kind: 'exact', family, ip, pool: sticky.pool.id, reason: `ordinal ${ordinal} of StatefulSet ${pod.namespace}/${statefulSet}`, sticky: { statefulSet, ordinal } });
    } else {
      claims.push({ kind: 'free', family, pools: ofFamily });
    }
  }
  return claims;
}

function choiceClaims(layout: PlanLayout, pod: PodFacts, ips: string[], source: string): Claim[] {
  for (const ip of ips) requestedIpPool(layout, pod, ip, source);
  const claims: Claim[] = [];
  for (const family of [4, 6] as const) {
    const ofFamily = ips.filter((ip) => familyOf(ip) === family);
    if (ofFamily.length === 0) continue;
    // Kube-OVN: StatefulSet pod N takes entry N of the list.
    const ordinal = pod.owner?.kind === 'StatefulSet' ? statefulSetOrdinal(pod, pod.owner.name) : undefined;
    if (ordinal !== undefined) {
      const ip = ofFamily[ordinal];
      if (ip === undefined) throw ipamError(CniCode.requestRefused, 'NI8103', [ofFamily.join(', '), podText(pod), source, `the list has no entry for ordinal ${ordinal}`]);
      claims.push({ kind: 'exact', family, ip, ...poolIdOf(layout, ip), reason: `${source} entry ${ordinal}` });
    } else {
      claims.push({ kind: 'freeOf', family, ips: ofFamily, reason: source });
    }
  }
  return claims;
}

/**
 * Candidate indexes of a pool, starting after the hint (the last index handed out) and
 * wrapping once: with leases handed out in order, the first candidate is nearly always
 * free, so an ADD stays O(1) however many leases the pool holds.
 */
export function* candidateIndexes(size: bigint, hint: bigint | undefined): Generator<bigint> {
  if (size === 0n) return;
  const start = hint === undefined ? 0n : (hint + 1n) % size;
  for (let i = 0n; i < size; i++) yield (start + i) % size;
}

/** "web/web-5d9c-abcde and 12 more pods" for the exhaustion message. */
export function describeHolders(leases: readonly Lease[], torn: number): string {
  const pods = [...new Set(leases.map((l) => `${l.pod.namespace}/${l.pod.name}`))].sort();
  const shown = pods.slice(0, 3).join(', ');
  const parts = [pods.length > 3 ? `${shown} and ${pods.length - 3} more pods` : pods.length ? shown : 'no pod'];
  const released = leases.filter((l) => l.state === 'released').length;
  if (released) parts.push(`${released} released StatefulSet leases`);
  if (torn) parts.push(`${torn} torn claims`);
  return parts.join('; ');
}
