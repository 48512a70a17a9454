/**
 * The etcd lease store (many nodes), under `PREFIX/NETWORK/`:
 *
 *   leases/IP   attachments/CID/IF   hints/POOL
 *
 * A claim is one transaction "if createRevision(lease) == 0 then put the lease, the pool
 * hint and the attachment record", a change is "if modRevision(key) == seen then
 * put/delete", and DEL is one transaction over the attachment record and its leases,
 * each retried with jittered backoff on a lost race: no lock is ever held. A transaction
 * is atomic, so etcd has no torn claims and no lease its record does not name. Every
 * write is a raft commit with an fsync of etcd's log, so an ADD and a DEL write once each.
 * Unreachable etcd (after a few retries) is a "try again later" (CNI code 11) error.
 */
import type { DeleteBuilder, Etcd3, IKeyValue, IOptions, PutBuilder } from 'etcd3';
import type { StoreConfig } from '../config.js';
import { IpamError, storeUnavailable } from '../errors.js';
import { formatLease, isTorn, parseAttachmentRecord, parseLease, type AttachmentRecord, type Lease, type LeaseRecord } from '../lease.js';
import type { AddStart, ClaimCompanions, LeaseChange, LeaseStore } from './index.js';

const CALL_TIMEOUT_MS = 2_000;
const UNAVAILABLE_RETRIES = 3;
const CAS_RETRIES = 50;
/** etcd's default --max-txn-ops. */
const MAX_TXN_OPS = 128;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const backoff = (attempt: number): number => Math.min(200, 5 * 2 ** attempt) * (0.5 + Math.random());

/** Calls go straight through: this store does its own retries (the client's default retries and breaker would hide the timing). */
const neverAborted = new AbortController().signal;
const passThrough = {
  execute: <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> => Promise.resolve(fn({ signal: neverAborted })),
} as unknown as NonNullable<IOptions['faultHandling']>['global'];

type EtcdConfig = Extract<StoreConfig, { type: 'etcd' }>;

/** A key read waiting for the batch it joined. */
interface PendingRead {
  key: string;
  resolve: (kv: IKeyValue | undefined) => void;
  reject: (error: unknown) => void;
}

/** A transaction's condition on one key's revision. */
interface Guard {
  key: string;
  column: 'Mod' | 'Create';
  value: string | number;
}

export class EtcdLeaseStore implements LeaseStore {
  readonly location: string;
  private pendingReads: PendingRead[] = [];

  private constructor(
    private readonly client: Etcd3,
    private readonly root: string,
    endpoints: readonly string[],
  ) {
    this.location = `etcd:${endpoints.join(',')}${root}`;
  }

  static async open(config: EtcdConfig, network: string): Promise<EtcdLeaseStore> {
    const { Etcd3 } = await import('etcd3');
    const client = new Etcd3({
      hosts: config.endpoints,
      dialTimeout: config.dialTimeoutMs,
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + CALL_TIMEOUT_MS }),
      faultHandling: { global: passThrough, host: () => passThrough! },
    });
    return new EtcdLeaseStore(client, `${config.prefix.replace(/\/+$/, '')}/${network}/`, config.endpoints);
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

  /**
   * Reads keys together with the reads other commands issue in the same turn of the event
   * loop: one transaction of range requests for all. Each etcd call costs the client far
   * more CPU than etcd takes to answer it, and the daemon runs many commands at once.
   */
  private readKeys(keys: readonly string[]): Promise<(IKeyValue | undefined)[]> {
    return Promise.all(
      keys.map(
        (key) =>
          new Promise<IKeyValue | undefined>((resolve, reject) => {
            if (this.pendingReads.length === 0) setImmediate(() => this.flushReads());
            this.pendingReads.push({ key, resolve, reject });
          }),
      ),
    );
  }

  private flushReads(): void {
    while (this.pendingReads.length > 0) {
      const batch = this.pendingReads.splice(0, MAX_TXN_OPS);
      this.call('get', () => this.client.kv.txn({ success: batch.map((read) => ({ request_range: { key: Buffer.from(read.key) } })) })).then(
        (response) => batch.forEach((read, i) => read.resolve(response.responses[i]!.response_range.kvs[0])),
        (error: unknown) => batch.forEach((read) => read.reject(error)),
      );
    }
  }

  /** One transaction: `operations` are written only if every guard holds. */
  private transaction(guards: readonly Guard[], operations: () => (PutBuilder | DeleteBuilder)[]): Promise<boolean> {
    return this.call('transaction', async () => {
      const [first, ...rest] = guards;
      let txn = this.client.if(first!.key, first!.column, '==', first!.value);
      for (const guard of rest) txn = txn.and(guard.key, guard.column, '==', guard.value);
      return (await txn.then(...operations()).commit()).succeeded;
    });
  }

  /** The lease of `ip` is still as read (`current`), or still absent. */
  private leaseGuard(ip: string, current: { modRevision: string } | undefined): Guard {
    return current ? { key: this.key('leases', ip), column: 'Mod', value: current.modRevision } : { key: this.key('leases', ip), column: 'Create', value: 0 };
  }

  private leaseWrite(ip: string, next: Lease | null): PutBuilder | DeleteBuilder {
    const key = this.key('leases', ip);
    return next === null ? this.client.delete().key(key) : this.client.put(key).value(formatLease(next));
  }

  async claim(lease: Lease, companions: ClaimCompanions = {}): Promise<boolean> {
    const { hint, attachment } = companions;
    return this.transaction([this.leaseGuard(lease.ip, undefined)], () => [
      this.leaseWrite(lease.ip, lease),
      ...(hint ? [this.client.put(this.key('hints', encodeURIComponent(hint.pool))).value(String(hint.index))] : []),
      ...(attachment ? [this.putRecord(attachment)] : []),
    ]);
  }

  private async readRaw(ip: string): Promise<{ record: LeaseRecord; modRevision: string } | undefined> {
    const [kv] = await this.readKeys([this.key('leases', ip)]);
    if (!kv) return undefined;
    const lease = parseLease(kv.value.toString());
    // Transactions make claims atomic; an unreadable value was written by something else.
    return { record: lease ?? { ip, torn: true, ageMs: 0 }, modRevision: kv.mod_revision };
  }

  async read(ip: string): Promise<LeaseRecord | undefined> {
    return (await this.readRaw(ip))?.record;
  }

  async update(ip: string, change: LeaseChange, attachment?: AttachmentRecord): Promise<LeaseRecord | undefined> {
    for (let attempt = 0; attempt < CAS_RETRIES; attempt++) {
      const current = await this.readRaw(ip);
      const next = change(current?.record);
      if (next === undefined) return current?.record;
      if (next === null && current === undefined) return undefined;
      if (await this.transaction([this.leaseGuard(ip, current)], () => [this.leaseWrite(ip, next), ...(attachment ? [this.putRecord(attachment)] : [])])) return next ?? undefined;
      await sleep(backoff(attempt));
    }
    throw storeUnavailable(`lease ${ip} keeps changing under concurrent updates`);
  }

  async releaseAttachment(containerId: string, ifname: string, change: LeaseChange): Promise<Lease[]> {
    const recordKey = this.attachmentKey(containerId, ifname);
    for (let attempt = 0; attempt < CAS_RETRIES; attempt++) {
      const [kv] = await this.readKeys([recordKey]);
      if (!kv) return [];
      const ips = parseAttachmentRecord(kv.value.toString())?.ips ?? [];
      const currents = await Promise.all(ips.map((ip) => this.readRaw(ip)));
      // The record and every lease changed are as read, or nothing is written.
      const guards: Guard[] = [{ key: recordKey, column: 'Mod', value: kv.mod_revision }];
      const writes: [string, Lease | null][] = [];
      const released: Lease[] = [];
      ips.forEach((ip, i) => {
        const current = currents[i];
        const next = change(current?.record);
        if (next === undefined || (next === null && current === undefined)) return;
        guards.push(this.leaseGuard(ip, current));
        writes.push([ip, next]);
        if (current && !isTorn(current.record)) released.push(current.record);
      });
      if (await this.transaction(guards, () => [this.client.delete().key(recordKey), ...writes.map(([ip, next]) => this.leaseWrite(ip, next))])) return released;
      await sleep(backoff(attempt));
    }
    throw storeUnavailable(`attachment ${containerId}/${ifname} keeps changing under concurrent updates`);
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

  private putRecord(record: AttachmentRecord): PutBuilder {
    return this.client.put(this.attachmentKey(record.containerId, record.ifname)).value(JSON.stringify(record));
  }

  async readAttachment(containerId: string, ifname: string): Promise<string[] | undefined> {
    const [kv] = await this.readKeys([this.attachmentKey(containerId, ifname)]);
    return kv === undefined ? undefined : (parseAttachmentRecord(kv.value.toString())?.ips ?? []);
  }

  async writeAttachment(record: AttachmentRecord): Promise<void> {
    await this.call('put', () => this.putRecord(record).exec());
  }

  async deleteAttachment(containerId: string, ifname: string): Promise<void> {
    await this.call('delete', () => this.client.delete().key(this.attachmentKey(containerId, ifname)).exec());
  }

  async listAttachments(): Promise<AttachmentRecord[]> {
    const values = await this.call('list', () => this.client.getAll().prefix(this.key('attachments', '')).strings());
    return Object.keys(values)
      .sort()
      .flatMap((k) => parseAttachmentRecord(values[k]!) ?? []);
  }

  async readForAdd(containerId: string, ifname: string, pools: readonly string[]): Promise<AddStart> {
    const [record, ...hintValues] = await this.readKeys([this.attachmentKey(containerId, ifname), ...pools.map((pool) => this.key('hints', encodeURIComponent(pool)))]);
    const hints = new Map<string, bigint>();
    pools.forEach((pool, i) => {
      const text = hintValues[i]?.value.toString();
      if (text !== undefined && /^[0-9]+$/.test(text)) hints.set(pool, BigInt(text));
    });
    return { ips: record === undefined ? undefined : (parseAttachmentRecord(record.value.toString())?.ips ?? []), hints };
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
