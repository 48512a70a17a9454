/**
 * Lookups the admission engine needs from one IR, built once per IR (the webhook keeps
 * one IR for thousands of requests): pools as numeric ranges, fixed IPs by pod and by
 * address, groups by id.
 */
import ipaddr from 'ipaddr.js';
import { ipToBigInt, isCanonicalIpv4 } from '../ir/address.js';
import type { Ir, IrEgressGateway, IrFixedIp, IrMember, IrPool, IrRateLimit, IrTenant } from '../ir/types.js';

export interface Address {
  family: 4 | 6;
  value: bigint;
}
interface NumericRange {
  family: 4 | 6;
  first: bigint;
  last: bigint;
}
export type WorkloadKind = 'Deployment' | 'StatefulSet';

/** A `pods` member of a group that can hold a pod being admitted (local cluster, primary network). */
export interface PodMemberEntry {
  groupId: string;
  member: Extract<IrMember, { kind: 'pods' }>;
}

export interface AdmissionIndex {
  ir: Ir;
  poolsByName: Map<string, IrPool[]>;
  fixedByPod: Map<string, IrFixedIp>;
  fixedByAddress: Map<string, IrFixedIp>;
  /**
   * Pod members keyed by `KEY=VALUE` of their first `In` requirement: a pod can only match
   * members filed under one of its labels, or those in `unkeyedMembers`.
   */
  membersByLabel: Map<string, PodMemberEntry[]>;
  unkeyedMembers: PodMemberEntry[];
  /** Group id → ids of the groups that include it as a member. */
  parentGroups: Map<string, string[]>;
  /** Tenant id → its shared pools (workload pools excluded); workload pools by `KIND namespace/name`. */
  tenantPools: Map<string, IrPool[]>;
  workloadPools: Map<string, IrPool>;
  /** Ranges of workload pools per family, sorted by first address (pools never overlap). */
  workloadRanges: { 4: (NumericRange & { pool: IrPool })[]; 6: (NumericRange & { pool: IrPool })[] };
  /** Rate limits by the id of each pod group they name (a mutate looks up only the pod's groups). */
  rateLimitsByGroup: Map<string, IrRateLimit[]>;
  /** Egress gateways with their pod groups as ids. */
  egressGateways: { gateway: IrEgressGateway; groups: string[] }[];
  rangesOf: Map<string, NumericRange[]>;
}

export function parseAddress(text: string): Address | undefined {
  // Every request's addresses are parsed: skip ipaddr.js's general parser for dotted quads.
  if (isCanonicalIpv4(text)) return { family: 4, value: ipToBigInt(text) };
  if (!ipaddr.isValid(text)) return undefined;
  const addr = ipaddr.process(text);
  let value = 0n;
  for (const byte of addr.toByteArray()) value = (value << 8n) | BigInt(byte);
  return { family: addr.kind() === 'ipv4' ? 4 : 6, value };
}

export const addressKey = (a: Address): string => `${a.family}:${a.value}`;

const cache = new WeakMap<Ir, AdmissionIndex>();

export function indexIr(ir: Ir): AdmissionIndex {
  const cached = cache.get(ir);
  if (cached) return cached;
  const index: AdmissionIndex = {
    ir,
    poolsByName: new Map(),
    fixedByPod: new Map(ir.fixedIps.map((f) => [`${f.namespace}/${f.pod}`, f])),
    fixedByAddress: new Map(),
    membersByLabel: new Map(),
    unkeyedMembers: [],
    parentGroups: new Map(),
    rateLimitsByGroup: new Map(),
    egressGateways: [],
    // Workload pools may name their tenant too, but only their workload draws from them.
    tenantPools: new Map(ir.tenants.map((t) => [t.id, ir.pools.filter((p) => !p.workload && isTenantPool(p, t))])),
    workloadPools: new Map(),
    workloadRanges: { 4: [], 6: [] },
    rangesOf: new Map(),
  };
  const groupIds = new Set(ir.groups.map((g) => g.id));
  // References may carry the group id or its bare name.
  const groupId = (ref: string): string => (groupIds.has(ref) ? ref : `group:${ref}`);
  for (const limit of ir.rateLimits) {
    for (const group of new Set(limit.pods.map(groupId))) {
      const limits = index.rateLimitsByGroup.get(group);
      if (limits) limits.push(limit);
      else index.rateLimitsByGroup.set(group, [limit]);
    }
  }
  index.egressGateways = ir.egressGateways.map((gateway) => ({ gateway, groups: gateway.pods.map(groupId) }));
  for (const group of ir.groups) {
    for (const member of group.members) {
      if (member.kind === 'group') {
        const child = groupId(member.group);
        index.parentGroups.set(child, [...(index.parentGroups.get(child) ?? []), group.id]);
      } else if (member.kind === 'pods' && member.network === undefined && member.cluster === undefined) {
        const entry = { groupId: group.id, member };
        const keyed = member.selector.find((r) => r.op === 'In');
        if (!keyed) index.unkeyedMembers.push(entry);
        for (const value of keyed?.values ?? []) {
          const key = `${keyed!.key}=${value}`;
          index.membersByLabel.set(key, [...(index.membersByLabel.get(key) ?? []), entry]);
        }
      }
    }
  }
  for (const fixed of ir.fixedIps) {
    for (const text of fixed.ips) {
      const address = parseAddress(text);
      if (address) index.fixedByAddress.set(addressKey(address), fixed);
    }
  }
  for (const pool of ir.pools) {
    const list = index.poolsByName.get(pool.name) ?? [];
    list.push(pool);
    index.poolsByName.set(pool.name, list);
    const ranges: NumericRange[] = [];
    for (const r of pool.ranges) {
      const first = parseAddress(r.first);
      const last = parseAddress(r.last);
      if (first && last && first.family === last.family) ranges.push({ family: first.family, first: first.value, last: last.value });
    }
    index.rangesOf.set(pool.id, ranges);
    if (pool.workload) {
      const w = pool.workload;
      index.workloadPools.set(`${w.kind} ${w.namespace}/${w.name}`, pool);
      for (const r of ranges) index.workloadRanges[r.family].push({ ...r, pool });
    }
  }
  for (const list of [index.workloadRanges[4], index.workloadRanges[6]]) list.sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  cache.set(ir, index);
  return index;
}

/** The workload pool holding an address, by binary search over the sorted ranges. */
export function workloadPoolAt(index: AdmissionIndex, address: Address): IrPool | undefined {
  const ranges = index.workloadRanges[address.family];
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    if (address.value < r.first) hi = mid - 1;
    else if (address.value > r.last) lo = mid + 1;
    else return r.pool;
  }
  return undefined;
}

export function poolContains(index: AdmissionIndex, pool: IrPool, address: Address): boolean {
  return index.rangesOf.get(pool.id)!.some((r) => r.family === address.family && r.first <= address.value && address.value <= r.last);
}

/** Tenant references in the IR may carry the id (`tenant:NAME`) or the bare name. */
export function refersToTenant(ref: string | undefined, tenant: IrTenant): boolean {
  return ref === tenant.name || ref === tenant.id;
}

export function isTenantPool(pool: IrPool, tenant: IrTenant): boolean {
  return tenant.pools.includes(pool.id) || refersToTenant(pool.tenant, tenant);
}

export function workloadPool(index: AdmissionIndex, kind: WorkloadKind, namespace: string, name: string): IrPool | undefined {
  return index.workloadPools.get(`${kind} ${namespace}/${name}`);
}

/** `file:line` of the intent behind an IR element, for messages. */
export function sourceOf(ir: Ir, id: string): string {
  const ref = ir.sources[id]?.[0];
  return ref ? `${ref.file}:${ref.line}` : 'no source recorded';
}
