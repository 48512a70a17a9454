/**
 * Lease stores behind one interface: `file` (one node, the default) and `etcd` (many
 * nodes). Both claim an IP atomically without a global lock; the etcd client is loaded
 * only when that store is used, to keep the plugin's cold start small.
 */
import type { StoreConfig } from '../config.js';
import type { AttachmentRecord, Lease, LeaseRecord } from '../lease.js';
import { FileLeaseStore } from './file-store.js';

export type { AttachmentRecord } from '../lease.js';

export interface PoolHint {
  pool: string;
  index: bigint;
}

/** What a claim writes besides the lease, in the same step. */
export interface ClaimCompanions {
  /** Recorded as the pool's hint. */
  hint?: PoolHint;
  /** The attachment's record naming the claimed address (see `claim`). */
  attachment?: AttachmentRecord;
}

/** What `update` makes of one IP's record: a new lease, `null` to delete it, `undefined` to keep it. */
export type LeaseChange = (current: LeaseRecord | undefined) => Lease | null | undefined;

/** What an ADD starts from. */
export interface AddStart {
  /** The IPs of the attachment's record, if it has one. */
  ips: string[] | undefined;
  /** The hints of the pools asked for that have one. */
  hints: Map<string, bigint>;
}

export interface LeaseStore {
  /** Where the leases live (store directory or etcd endpoints and prefix, and network). */
  readonly location: string;
  /**
   * Atomically creates the lease of `lease.ip`; false when the IP is already held (or
   * torn). A successful claim also writes its companions: in the same transaction where
   * the store has them; else the attachment record goes first (naming an address not yet
   * held is harmless, as DEL checks the holder), so that no killed ADD leaves a lease
   * its attachment record does not name.
   */
  claim(lease: Lease, companions?: ClaimCompanions): Promise<boolean>;
  read(ip: string): Promise<LeaseRecord | undefined>;
  /**
   * Atomic read-modify-write of one IP's record; returns the record stored afterwards.
   * With `attachment`, a change also writes that record, as `claim` does.
   */
  update(ip: string, change: LeaseChange, attachment?: AttachmentRecord): Promise<LeaseRecord | undefined>;
  list(): Promise<LeaseRecord[]>;
  /** The IPs an attachment's record names (the index DEL uses). */
  readAttachment(containerId: string, ifname: string): Promise<string[] | undefined>;
  /** The attachment's record and the hints of `pools` (the index last handed out in each), in one read. */
  readForAdd(containerId: string, ifname: string, pools: readonly string[]): Promise<AddStart>;
  writeAttachment(record: AttachmentRecord): Promise<void>;
  /**
   * DEL in one step: applies `change` to the lease of every IP the attachment's record
   * names and removes the record (one transaction where the store has them). Returns the
   * leases changed, as they were.
   */
  releaseAttachment(containerId: string, ifname: string, change: LeaseChange): Promise<Lease[]>;
  deleteAttachment(containerId: string, ifname: string): Promise<void>;
  listAttachments(): Promise<AttachmentRecord[]>;
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
