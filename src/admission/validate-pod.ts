/**
 * Validation of pods against the intents: host access in isolated tenants, fixed-IP and
 * pool requests, bandwidth annotations and secondary networks.
 */
import type { IrPool, IrTenant } from '../ir/types.js';
import {
  annotationPath,
  EGRESS_BANDWIDTH,
  INGRESS_BANDWIDTH,
  MULTUS_NETWORKS,
  networkEntryMatches,
  parseNetworkSelections,
  readFixedAddressRequests,
} from './annotations.js';
import { addressKey, isTenantPool, parseAddress, poolContains, refersToTenant, sourceOf, workloadPool, workloadPoolAt, type Address, type AdmissionIndex } from './ir-index.js';
import { intendedAddresses, isObject, type PodFacts } from './pod.js';
import { bandwidthProblem, formatBitRate, parseQuantity } from './quantity.js';
import type { Violation } from './violation.js';

const HOST_CAPABILITIES = new Set(['NET_ADMIN', 'NET_RAW', 'ALL']);
const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

/** Field paths of everything in the pod spec that reaches the host's network (in the containers `include` accepts). */
function hostAccessFields(spec: Record<string, unknown>, include: (container: Record<string, unknown>) => boolean = () => true): string[] {
  const fields: string[] = [];
  if (spec.hostNetwork === true) fields.push('spec.hostNetwork');
  for (const list of CONTAINER_LISTS) {
    const containers = Array.isArray(spec[list]) ? spec[list] : [];
    containers.forEach((c, i) => {
      if (!isObject(c) || !include(c)) return;
      const at = `spec.${list}[${i}]`;
      (Array.isArray(c.ports) ? c.ports : []).forEach((p, j) => {
        if (isObject(p) && typeof p.hostPort === 'number' && p.hostPort !== 0) fields.push(`${at}.ports[${j}].hostPort`);
      });
      const sc = isObject(c.securityContext) ? c.securityContext : {};
      // A privileged container holds every capability, NET_ADMIN and NET_RAW included.
      if (sc.privileged === true) fields.push(`${at}.securityContext.privileged`);
      const add = isObject(sc.capabilities) && Array.isArray(sc.capabilities.add) ? sc.capabilities.add : [];
      add.forEach((cap, k) => {
        if (typeof cap === 'string' && HOST_CAPABILITIES.has(cap.toUpperCase().replace(/^CAP_/, ''))) {
          fields.push(`${at}.securityContext.capabilities.add[${k}]`);
        }
      });
    });
  }
  return fields;
}

function describePools(pools: IrPool[]): string {
  const ranges = pools.flatMap((p) => p.ranges.map((r) => (r.first === r.last ? r.first : `${r.first}-${r.last}`)));
  return ranges.length > 6 ? `${ranges.slice(0, 6).join(', ')}, …` : ranges.join(', ');
}

function listNames(names: string[]): string {
  if (names.length === 0) return 'none';
  return names.length > 8 ? `${names.slice(0, 8).join(', ')}, …` : names.join(', ');
}

function ownWorkloadPool(index: AdmissionIndex, pod: PodFacts): IrPool | undefined {
  return pod.workload ? workloadPool(index, pod.workload.kind, pod.namespace, pod.workload.name) : undefined;
}

function hostAccessViolations(index: AdmissionIndex, pod: PodFacts, spec: Record<string, unknown>, include?: (container: Record<string, unknown>) => boolean): Violation[] {
  const tenant = pod.tenant;
  if (!tenant || tenant.isolation === 'none' || tenant.allowHostAccess) return [];
  return hostAccessFields(spec, include).map((field) => ({ code: 'NI7001', args: [pod.display, field, tenant.name, tenant.isolation, sourceOf(index.ir, tenant.id)] }));
}

/**
 * `kubectl debug` adds ephemeral containers to a running pod (UPDATE of the
 * pods/ephemeralcontainers subresource): the new ones must not reach the host either.
 */
export function validateEphemeralContainers(index: AdmissionIndex, pod: PodFacts, oldSpec: Record<string, unknown>): Violation[] {
  const existing = new Set((Array.isArray(oldSpec.ephemeralContainers) ? oldSpec.ephemeralContainers : []).map((c) => (isObject(c) ? c.name : undefined)));
  const added = { ephemeralContainers: pod.spec.ephemeralContainers };
  return hostAccessViolations(index, pod, added, (c) => !existing.has(c.name));
}

export function validatePod(index: AdmissionIndex, pod: PodFacts): Violation[] {
  const { ir } = index;
  const tenant = pod.tenant;
  const violations = hostAccessViolations(index, pod, pod.spec);

  violations.push(...validateAddressRequests(index, pod, tenant));

  for (const [key, direction, cap] of [
    [INGRESS_BANDWIDTH, 'ingress', tenant?.ingressCap],
    [EGRESS_BANDWIDTH, 'egress', tenant?.egressCap],
  ] as const) {
    const value = pod.annotations[key];
    if (value === undefined) continue;
    const problem = bandwidthProblem(value);
    if (problem) {
      violations.push({ code: 'NI7009', args: [pod.display, annotationPath(key), value, problem] });
    } else if (tenant && cap !== undefined && parseQuantity(value)! > cap) {
      violations.push({ code: 'NI7010', args: [pod.display, annotationPath(key), value, direction, formatBitRate(cap), tenant.name, sourceOf(ir, tenant.id)] });
    }
  }

  const networks = pod.annotations[MULTUS_NETWORKS];
  if (networks !== undefined) {
    const selections = parseNetworkSelections(networks, pod.namespace);
    if (typeof selections === 'string') {
      violations.push({ code: 'NI7012', args: [pod.display, annotationPath(MULTUS_NETWORKS), selections] });
    } else {
      for (const selection of selections) {
        if (tenant?.networks.some((n) => networkEntryMatches(n, selection))) continue;
        const owner = ir.tenants.find((t) => t !== tenant && t.networks.some((n) => networkEntryMatches(n, selection)));
        if (owner) {
          violations.push({
            code: 'NI7011',
            args: [pod.display, annotationPath(MULTUS_NETWORKS), `${selection.namespace}/${selection.name}`, owner.name, sourceOf(ir, owner.id), listNames(tenant?.networks ?? [])],
          });
        }
      }
    }
  }
  return violations;
}

/**
 * Where a requested address may come from, as the IPAM plugin decides it: the pod's
 * workload pool, else its tenant's pools, else (pods in no tenant) any pool of no tenant;
 * never a reserved address.
 */
function poolRuleViolations(
  index: AdmissionIndex,
  pod: PodFacts,
  tenant: IrTenant | undefined,
  tenantPools: IrPool[],
  ownPool: IrPool | undefined,
  field: string,
  ip: string,
  address: Address,
): Violation[] {
  const { ir } = index;
  const holder = ownPool && poolContains(index, ownPool, address) ? ownPool : ir.pools.find((p) => !p.workload && poolContains(index, p, address));
  const inOwnPool = ownPool !== undefined && holder === ownPool;
  if (tenant && !inOwnPool && !(holder && tenantPools.includes(holder))) {
    return [{ code: 'NI7002', args: [pod.display, field, ip, tenant.name, sourceOf(ir, tenant.id), tenantPools.length ? describePools(tenantPools) : 'its pools (it declares none yet)'] }];
  }
  if (!holder) return [];
  const owner = !tenant && holder.tenant !== undefined ? ir.tenants.find((t) => refersToTenant(holder.tenant, t)) : undefined;
  if (owner) return [{ code: 'NI7018', args: [pod.display, field, ip, holder.name, owner.name, sourceOf(ir, owner.id)] }];
  if (holder.reserved.some((r) => { const a = parseAddress(r); return a?.family === address.family && a.value === address.value; })) {
    return [{ code: 'NI7017', args: [pod.display, field, ip, holder.name, sourceOf(ir, holder.id)] }];
  }
  return [];
}

function validateAddressRequests(index: AdmissionIndex, pod: PodFacts, tenant: IrTenant | undefined): Violation[] {
  const { ir } = index;
  const violations: Violation[] = [];
  const requests = readFixedAddressRequests(pod.annotations);
  for (const p of requests.problems) violations.push({ code: 'NI7008', args: [pod.display, annotationPath(p.annotation), p.reason] });

  const ownPool = ownWorkloadPool(index, pod);
  const intended = intendedAddresses(index, pod);
  const tenantPools = tenant ? index.tenantPools.get(tenant.id)! : [];

  for (const request of requests.addresses) {
    const field = annotationPath(request.annotation);
    for (const ip of request.ips) {
      const address = parseAddress(ip)!;
      const fixed = index.fixedByAddress.get(addressKey(address));
      const fixedOwner = fixed && !(fixed.namespace === pod.namespace && fixed.pod === pod.name) ? fixed : undefined;
      const holder = workloadPoolAt(index, address);
      const poolOwner = holder !== ownPool ? holder : undefined;
      if (fixedOwner) {
        violations.push({ code: 'NI7005', args: [pod.display, field, ip, `pod ${fixedOwner.namespace}/${fixedOwner.pod}`, sourceOf(ir, fixedOwner.id)] });
      } else if (poolOwner?.workload) {
        const w = poolOwner.workload;
        violations.push({ code: 'NI7005', args: [pod.display, field, ip, `${w.kind} ${w.namespace}/${w.name}`, sourceOf(ir, poolOwner.id)] });
      } else if (intended && !intended.ips.includes(ip)) {
        violations.push({ code: 'NI7007', args: [pod.display, field, ip, intended.ips.join(', '), sourceOf(ir, intended.sourceId)] });
      } else if (!intended) {
        violations.push(...poolRuleViolations(index, pod, tenant, tenantPools, ownPool, field, ip, address));
      }
    }
  }

  for (const request of requests.pools) {
    const field = annotationPath(request.annotation);
    for (const name of request.pools) {
      const candidates = index.poolsByName.get(name) ?? [];
      if (candidates.length === 0) {
        if (request.mustExist) violations.push({ code: 'NI7004', args: [pod.display, field, name, listNames([...index.poolsByName.keys()])] });
        continue;
      }
      const pool = candidates.find((p) => p === ownPool) ?? candidates.find((p) => tenant !== undefined && isTenantPool(p, tenant)) ?? candidates[0]!;
      if (pool.workload && pool !== ownPool) {
        const w = pool.workload;
        violations.push({ code: 'NI7006', args: [pod.display, field, name, `${w.kind} ${w.namespace}/${w.name}`, sourceOf(ir, pool.id)] });
      } else if (tenant && tenantPools.length > 0 && pool !== ownPool && !isTenantPool(pool, tenant)) {
        violations.push({ code: 'NI7003', args: [pod.display, field, name, tenant.name, sourceOf(ir, tenant.id), listNames(tenantPools.map((p) => p.name))] });
      }
    }
  }
  return violations;
}
