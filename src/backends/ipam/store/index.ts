/**
 * Lease stores behind one interface: `file` (one node, the default) and `etcd` (many
 * nodes). Both claim an IP atomically without a global lock; the etcd client is loaded
 * only when that store is used, to keep the plugin's cold start small.
 */
import type { StoreConfig } from '../config.js';
import type { Lease, LeaseRecord } from '../lease.js';
import { FileLeaseStore } from './file-store.js';

export interface AttachmentRecord {
  containerId: string;
  ifname: string;
  ips: string[];
}

export interface PoolHint {
  pool: string;
  index: bigint;
}

/** What `update` makes of one IP's record: a new lease, `null` to delete it, `undefined` to keep it. */
export type LeaseChange = (current: LeaseRecord | undefined) => Lease | null | undefined;

export interface LeaseStore {
  /**
   * Atomically creates the lease of `lease.ip`; false when the IP is already held (or
   * torn). With `hint`, a successful claim also records it as the pool's hint (in the
   * same transaction where the store has them).
   */
  claim(lease: Lease, hint?: PoolHint): Promise<boolean>;
  read(ip: string): Promise<LeaseRecord | undefined>;
  /** Atomic read-modify-write of one IP's record; returns the record stored afterwards. */
  update(ip: string, change: LeaseChange): Promise<LeaseRecord | undefined>;
  list(): Promise<LeaseRecord[]>;
  /** The IPs recorded for an attachment at the end of its ADD (the index DEL uses). */
  readAttachment(containerId: string, ifname: string): Promise<string[] | undefined>;
  writeAttachment(record: AttachmentRecord): Promise<void>;
  deleteAttachment(containerId: string, ifname: string): Promise<void>;
  listAttachments(): Promise<AttachmentRecord[]>;
  /** The index last handed out in a pool (where the next free search starts). */
  readHint(pool: string): Promise<bigint | undefined>;
  /** Removes what killed processes left behind (temp and lock files); returns their names. */
  collectDebris(): Promise<string[]>;
  /** Throws a store-unavailable IpamError when the store cannot serve requests. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function openLeaseStore(config: StoreConfig, network: string): Promise<LeaseStore> {
  if (config.type === 'file') return new FileLeaseStore(config.dir, network);
  const { EtcdLeaseStore } = await import('./etcd-store.js');
  return EtcdLeaseStore.open(config, network);
}

export { FileLeaseStore } from './file-store.js';
