/**
 * The etcd lease store (many nodes), under `PREFIX/NETWORK/`:
 *
 *   leases/IP   attachments/CID/IF   hints/POOL
 *
 * A claim is one transaction "if createRevision(key) == 0 then put", a change is
 * "if modRevision(key) == seen then put/delete", retried with jittered backoff on a
 * lost race: no lock is ever held. A transaction is atomic, so etcd has no torn claims.
 * Unreachable etcd (after a few retries) is a "try again later" (CNI code 11) error.
 */
import type { Etcd3, IOptions } from 'etcd3';
import type { StoreConfig } from '../config.js';
import { IpamError, storeUnavailable } from '../errors.js';
import { formatLease, parseLease, type Lease, type LeaseRecord } from '../lease.js';
import type { AttachmentRecord, LeaseChange, LeaseStore, PoolHint } from './index.js';

const CALL_TIMEOUT_MS = 2_000;
const UNAVAILABLE_RETRIES = 3;
const CAS_RETRIES = 50;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const backoff = (attempt: number): number => Math.min(200, 5 * 2 ** attempt) * (0.5 + Math.random());

/** Calls go straight through: this store does its own retries (the client's default retries and breaker would hide the timing). */
const passThrough = {
  execute: <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> => Promise.resolve(fn({ signal: new AbortController().signal })),
} as unknown as NonNullable<IOptions['faultHandling']>['global'];

type EtcdConfig = Extract<StoreConfig, { type: 'etcd' }>;

export class EtcdLeaseStore implements LeaseStore {
  private constructor(
    private readonly client: Etcd3,
    private readonly root: string,
  ) {}

  static async open(config: EtcdConfig, network: string): Promise<EtcdLeaseStore> {
    const { Etcd3 } = await import('etcd3');
    const client = new Etcd3({
      hosts: config.endpoints,
      dialTimeout: config.dialTimeoutMs,
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + CALL_TIMEOUT_MS }),
      faultHandling: { global: passThrough, host: () => passThrough! },
    });
    return new EtcdLeaseStore(client, `${config.prefix.replace(/\/+$/, '')}/${network}/`);
  }

  private key(kind: 'leases' | 'attachments' | 'hints', name: string): string {
    return `${this.root}${kind}/${name}`;
  }

  /** Runs one etcd call, retrying while etcd is unreachable, then gives up with code 11. */
  private async call<T>(what: string, run: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await run();
      } catch (e) {
        if (e instanceof IpamError) throw e;
        if (attempt + 1 >= UNAVAILABLE_RETRIES) throw storeUnavailable(`etcd ${what}: ${(e as Error).message}`);
        await sleep(backoff(attempt + 2));
      }
    }
  }

  async claim(lease: Lease, hint?: PoolHint): Promise<boolean> {
    const key = this.key('leases', lease.ip);
    const result = await this.call('claim', () => {
      const puts = [this.client.put(key).value(formatLease(lease))];
      if (hint) puts.push(this.client.put(this.key('hints', encodeURIComponent(hint.pool))).value(String(hint.index)));
      return this.client.if(key, 'Create', '==', 0).then(...puts).commit();
    });
    return result.succeeded;
  }

  private async readRaw(ip: string): Promise<{ record: LeaseRecord; modRevision: string } | undefined> {
    const response = await this.call('get', () => this.client.get(this.key('leases', ip)).exec());
    const kv = response.kvs[0];
    if (!kv) return undefined;
    const lease = parseLease(kv.value.toString());
    // Transactions make claims atomic; an unreadable value was written by something else.
    return { record: lease ?? { ip, torn: true, ageMs: 0 }, modRevision: kv.mod_revision };
  }

  async read(ip: string): Promise<LeaseRecord | undefined> {
    return (await this.readRaw(ip))?.record;
  }

  async update(ip: string, change: LeaseChange): Promise<LeaseRecord | undefined> {
    const key = this.key('leases', ip);
    for (let attempt = 0; attempt < CAS_RETRIES; attempt++) {
      const current = await this.readRaw(ip);
      const next = change(current?.record);
      if (next === undefined) return current?.record;
      if (next === null && current === undefined) return undefined;
      const result = await this.call('transaction', () => {
        const guard = current ? this.client.if(key, 'Mod', '==', current.modRevision) : this.client.if(key, 'Create', '==', 0);
        return guard.then(next === null ? this.client.delete().key(key) : this.client.put(key).value(formatLease(next))).commit();
      });
      if (result.succeeded) return next ?? undefined;
      await sleep(backoff(attempt));
    }
    throw storeUnavailable(`lease ${ip} keeps changing under concurrent updates`);
  }

  async list(): Promise<LeaseRecord[]> {
    const prefix = this.key('leases', '');
    const values = await this.call('list', () => this.client.getAll().prefix(prefix).strings());
    return Object.entries(values)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => parseLease(value) ?? { ip: key.slice(prefix.length), torn: true as const, ageMs: 0 });
  }

  private attachmentKey(containerId: string, ifname: string): string {
    return this.key('attachments', `${encodeURIComponent(containerId)}/${encodeURIComponent(ifname)}`);
  }

  async readAttachment(containerId: string, ifname: string): Promise<string[] | undefined> {
    const text = await this.call('get', () => this.client.get(this.attachmentKey(containerId, ifname)).string());
    return text === null ? undefined : (JSON.parse(text) as AttachmentRecord).ips;
  }

  async writeAttachment(record: AttachmentRecord): Promise<void> {
    await this.call('put', () => this.client.put(this.attachmentKey(record.containerId, record.ifname)).value(JSON.stringify(record)).exec());
  }

  async deleteAttachment(containerId: string, ifname: string): Promise<void> {
    await this.call('delete', () => this.client.delete().key(this.attachmentKey(containerId, ifname)).exec());
  }

  async listAttachments(): Promise<AttachmentRecord[]> {
    const values = await this.call('list', () => this.client.getAll().prefix(this.key('attachments', '')).strings());
    return Object.keys(values)
      .sort()
      .map((k) => JSON.parse(values[k]!) as AttachmentRecord);
  }

  async readHint(pool: string): Promise<bigint | undefined> {
    const text = await this.call('get', () => this.client.get(this.key('hints', encodeURIComponent(pool))).string());
    return text !== null && /^[0-9]+$/.test(text) ? BigInt(text) : undefined;
  }

  /** Transactions leave nothing behind. */
  async collectDebris(): Promise<string[]> {
    return [];
  }

  async ping(): Promise<void> {
    await this.call('status', () => this.client.get(this.key('hints', '')).exec());
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
