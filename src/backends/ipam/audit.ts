/**
 * `netintent ipam ls` and `netintent ipam gc`, as pure functions of the plan layout, the
 * store's records and (for gc) the inventory: per-pool counts, problems found (leaks,
 * conflicts, torn claims), and the releases the inventory justifies. Conflicts are only
 * reported: which pod really uses an address is for a person to decide.
 */
import { diag, type Diagnostic } from '../../diagnostics/diagnostic.js';
import type { Inventory } from '../../inventory/index.js';
import type { PlanLayout } from './layout.js';
import { attachmentKey, describeHolder, isTorn, type Lease, type LeaseRecord } from './lease.js';
import type { InventoryStatefulSet } from './statefulsets.js';
import type { AttachmentRecord } from './store/index.js';

export interface PoolUsage {
  pool: string;
  name: string;
  usable: string;
  active: number;
  released: number;
  torn: number;
  free: string;
}

export interface LeaseAudit {
  pools: PoolUsage[];
  leases: Lease[];
  problems: Diagnostic[];
}

const podOf = (l: Lease): string => `${l.pod.namespace}/${l.pod.name}`;

export function auditLeases(layout: PlanLayout, records: readonly LeaseRecord[], attachments: readonly AttachmentRecord[], graceMs: number, now: number): LeaseAudit {
  const leases = records.filter((r): r is Lease => !isTorn(r));
  const problems: Diagnostic[] = [];
  for (const r of records) if (isTorn(r)) problems.push(diag('NI8110', undefined, [r.ip, `${Math.round(r.ageMs / 1000)} s`]));

  const recorded = new Map<string, Set<string>>();
  for (const a of attachments) recorded.set(attachmentKey(a.containerId, a.ifname), new Set(a.ips));
  for (const lease of leases) {
    const pool = layout.poolContaining(lease.ip);
    const fixedFor = layout.fixedOwner.get(lease.ip);
    if (fixedFor !== undefined && fixedFor !== podOf(lease)) {
      problems.push(diag('NI8109', undefined, [`${lease.ip} is the fixed IP of ${fixedFor} but is leased by ${describeHolder(lease)}`]));
    } else if (fixedFor === undefined && !pool) {
      problems.push(diag('NI8109', undefined, [`${lease.ip} is leased by ${describeHolder(lease)} but is in no pool of the plan`]));
    } else if (fixedFor === undefined && pool && pool.space.indexOf(lease.ip) === undefined) {
      problems.push(diag('NI8109', undefined, [`${lease.ip} is leased by ${describeHolder(lease)} but is reserved in pool "${pool.pool.name}"`]));
    } else if (lease.sticky && pool && pool.space.at(BigInt(lease.sticky.ordinal)) !== lease.ip) {
      problems.push(diag('NI8109', undefined, [`${lease.ip} is kept for ordinal ${lease.sticky.ordinal} of StatefulSet ${lease.pod.namespace}/${lease.sticky.statefulSet}, but the plan now gives that ordinal ${pool.space.at(BigInt(lease.sticky.ordinal)) ?? 'no address'}`]));
    }
    const age = now - Date.parse(lease.since);
    if (lease.state === 'active' && age > graceMs && !recorded.get(attachmentKey(lease.containerId, lease.ifname))?.has(lease.ip)) {
      problems.push(diag('NI8108', undefined, [lease.ip, describeHolder(lease), 'but its ADD never recorded it (interrupted ADD): DEL cannot find it']));
    }
  }

  const pools: PoolUsage[] = layout.pools.map((p) => {
    const inPool = leases.filter((l) => p.space.indexOf(l.ip) !== undefined);
    const torn = records.filter((r) => isTorn(r) && p.space.indexOf(r.ip) !== undefined).length;
    const held = BigInt(inPool.length + torn);
    return {
      pool: p.pool.id,
      name: p.pool.name,
      usable: String(p.space.size),
      active: inPool.filter((l) => l.state === 'active').length,
      released: inPool.filter((l) => l.state === 'released').length,
      torn,
      free: String(p.space.size - held),
    };
  });
  return { pools, leases: [...leases].sort((a, b) => a.ip.localeCompare(b.ip, 'en', { numeric: true })), problems };
}

export type GcAction =
  /** Delete the lease (non-sticky pod gone, or sticky ordinal no longer wanted). */
  | { kind: 'delete'; lease: Lease; reason: string }
  /** Keep the address reserved for the StatefulSet ordinal, but mark it released. */
  | { kind: 'release'; lease: Lease; reason: string }
  | { kind: 'removeTorn'; ip: string; reason: string };

export interface GcDecision {
  actions: GcAction[];
  notes: Diagnostic[];
}

/**
 * What the inventory justifies: leases of pods that are gone (or were replaced: another
 * UID) are released; sticky leases are deleted only when the StatefulSet is gone or
 * scaled to N or fewer replicas. Leases younger than the grace period are left alone,
 * since the inventory may predate their pods.
 */
export function decideInventoryGc(
  records: readonly LeaseRecord[],
  inventory: Inventory,
  statefulSets: readonly InventoryStatefulSet[] | undefined,
  graceMs: number,
  now: number,
): GcDecision {
  const pods = new Map(inventory.pods.map((p) => [`${p.namespace}/${p.name}`, p]));
  const actions: GcAction[] = [];
  const notes: Diagnostic[] = [];
  const unknownScale = new Set<string>();
  for (const record of records) {
    if (isTorn(record)) {
      if (record.ageMs >= graceMs) actions.push({ kind: 'removeTorn', ip: record.ip, reason: 'torn claim of an interrupted ADD' });
      continue;
    }
    if (now - Date.parse(record.since) < graceMs) continue;
    const pod = pods.get(podOf(record));
    const podGone = !pod || (pod.uid !== '' && record.pod.uid !== '' && pod.uid !== record.pod.uid);
    const why = !pod ? `pod ${podOf(record)} is gone` : `pod ${podOf(record)} was replaced (UID ${pod.uid})`;
    if (!record.sticky) {
      if (podGone && record.state === 'active') actions.push({ kind: 'delete', lease: record, reason: why });
      continue;
    }
    if (!podGone) continue;
    const sts = `${record.pod.namespace}/${record.sticky.statefulSet}`;
    if (!statefulSets) {
      unknownScale.add(sts);
      if (record.state === 'active') actions.push({ kind: 'release', lease: record, reason: `${why}; address kept for the StatefulSet ordinal` });
      continue;
    }
    const owner = statefulSets.find((s) => `${s.namespace}/${s.name}` === sts);
    if (!owner) actions.push({ kind: 'delete', lease: record, reason: `StatefulSet ${sts} is gone` });
    else if (owner.replicas <= record.sticky.ordinal) actions.push({ kind: 'delete', lease: record, reason: `StatefulSet ${sts} is scaled to ${owner.replicas} replicas` });
    else if (record.state === 'active') actions.push({ kind: 'release', lease: record, reason: `${why}; address kept for ordinal ${record.sticky.ordinal}` });
  }
  for (const sts of [...unknownScale].sort()) notes.push(diag('NI8111', undefined, [sts]));
  return { actions, notes };
}
