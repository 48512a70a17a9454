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

/**
 * Where a CNI command gets its store: the plugin process opens one per command and
 * closes it after; the daemon keeps them open across commands (see KeptLeaseStores).
 */
export interface LeaseStoreSource {
  open(config: StoreConfig, network: string): Promise<LeaseStore>;
  /** Called once the command is done with the store. */
  done(store: LeaseStore): Promise<void>;
}

export const storePerCommand: LeaseStoreSource = { open: openLeaseStore, done: (store) => store.close() };

/**
 * The daemon's stores: etcd stores are kept open across commands, one per store config
 * and network (so one connected client), and shared by concurrent commands, which they
 * are safe for. File stores are opened per command as in the plugin (opening one is a
 * few mkdirs, and it re-creates a store directory removed meanwhile).
 */
export class KeptLeaseStores implements LeaseStoreSource {
  private readonly stores = new Map<string, Promise<LeaseStore>>();
  private readonly kept = new WeakSet<LeaseStore>();

  async open(config: StoreConfig, network: string): Promise<LeaseStore> {
    if (config.type === 'file') return openLeaseStore(config, network);
    const key = JSON.stringify([config, network]);
    let opening = this.stores.get(key);
    if (!opening) {
      opening = openLeaseStore(config, network);
      this.stores.set(key, opening);
      // A failed open is not kept: the next command tries again.
      opening.catch(() => this.stores.delete(key));
    }
    const store = await opening;
    this.kept.add(store);
    return store;
  }

  async done(store: LeaseStore): Promise<void> {
    if (!this.kept.has(store)) await store.close();
  }

  async closeAll(): Promise<void> {
    const stores = [...this.stores.values()];
    this.stores.clear();
    await Promise.all(stores.map(async (s) => (await s.catch(() => undefined))?.close()));
  }
}

export { FileLeaseStore } from './file-store.js';
