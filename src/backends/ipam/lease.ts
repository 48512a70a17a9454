/** A lease: one IP held by one attachment (container + interface) of one pod; the record of an attachment's leases. */
import type { Family } from './addresses.js';

export interface PodRef {
  namespace: string;
  name: string;
  /** Empty when the runtime did not pass K8S_POD_UID. */
  uid: string;
}

/** StatefulSet pod N keeps address N: the lease outlives its containers. */
export interface StickyOrdinal {
  statefulSet: string;
  ordinal: number;
}

export interface Lease {
  ip: string;
  family: Family;
  /** Pool id; absent for a fixed or requested IP outside every pool. */
  pool?: string;
  containerId: string;
  ifname: string;
  pod: PodRef;
  sticky?: StickyOrdinal;
  /** `released`: only sticky leases, kept for the same pod identity after DEL. */
  state: 'active' | 'released';
  /** ISO time of the last change. */
  since: string;
}

/** A lease file or key claimed by an ADD that died before writing its content. */
export interface TornClaim {
  ip: string;
  torn: true;
  ageMs: number;
}

export type LeaseRecord = Lease | TornClaim;

/** The IPs an attachment holds: what DEL and CHECK go by. */
export interface AttachmentRecord {
  containerId: string;
  ifname: string;
  ips: string[];
  /** ISO time of the write (absent in older records): GC leaves younger records to their ADD. */
  since?: string;
}

export const isTorn = (r: LeaseRecord): r is TornClaim => 'torn' in r;

export const attachmentKey = (containerId: string, ifname: string): string => `${containerId}/${ifname}`;

export function holdsAttachment(lease: Lease, containerId: string, ifname: string): boolean {
  return lease.containerId === containerId && lease.ifname === ifname;
}

export function describeHolder(lease: Lease): string {
  return `pod ${lease.pod.namespace}/${lease.pod.name} (container ${lease.containerId.slice(0, 12)}/${lease.ifname}${lease.state === 'released' ? ', released, kept for the StatefulSet ordinal' : ''})`;
}

/** Parses stored lease text; undefined when it is not a complete lease (a torn claim). */
export function parseLease(text: string): Lease | undefined {
  if (text.trim() === '') return undefined;
  try {
    const value = JSON.parse(text) as Partial<Lease>;
    if (typeof value.ip === 'string' && typeof value.containerId === 'string' && typeof value.pod === 'object') return value as Lease;
  } catch {
    // a partial write: treated as torn
  }
  return undefined;
}

/** Human-readable, stable JSON (one field per line). */
export const formatLease = (lease: Lease): string => `${JSON.stringify(lease, null, 2)}\n`;

/** Parses stored attachment record text; undefined when it is not a complete record. */
export function parseAttachmentRecord(text: string): AttachmentRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<AttachmentRecord>;
    if (typeof value.containerId === 'string' && typeof value.ifname === 'string' && Array.isArray(value.ips)) return value as AttachmentRecord;
  } catch {
    // empty or partial (a power loss before its ADD answered)
  }
  return undefined;
}
