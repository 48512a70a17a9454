/**
 * The CNI operations on a lease store: ADD, DEL, CHECK and GC of attachments. The
 * decisions come from the pure core (allocation.ts); this module only tries them
 * against the store, so it works the same on the file and etcd stores.
 */
import { candidateIndexes, decideClaims, describeHolders, type Claim, type PodFacts } from './allocation.js';
import type { GcAction } from './audit.js';
import { CniCode, ipamError, storeUnavailable } from './errors.js';
import type { PlanLayout, PoolLayout } from './layout.js';
import { attachmentKey, describeHolder, holdsAttachment, isTorn, type AttachmentRecord, type Lease } from './lease.js';
import type { AddressRequest } from './requests.js';
import type { LeaseChange, LeaseStore } from './store/index.js';

export interface Attachment {
  containerId: string;
  ifname: string;
}

/** Candidates tried before reading the store's leases once (see takeFree). */
const OPTIMISTIC_TRIES = 16;
const MAX_STRIDE = 32;

const nowText = (): string => new Date().toISOString();

/** What DEL leaves of a lease: sticky leases stay reserved for their ordinal, others go. */
function afterRelease(lease: Lease): Lease | null {
  return lease.sticky ? { ...lease, state: 'released', since: nowText() } : null;
}

const samePod = (lease: Lease, pod: PodFacts): boolean => lease.pod.namespace === pod.namespace && lease.pod.name === pod.name;

/** ADD: the attachment's leases, reusing those of a repeated ADD. */
export async function addAttachment(
  store: LeaseStore,
  layout: PlanLayout,
  attachment: Attachment,
  pod: PodFacts,
  request: AddressRequest,
): Promise<Lease[]> {
  const { containerId, ifname } = attachment;
  // Decided before the store is read, so that one read brings the record and the hints of
  // the pools to search; a refusal yields to a repeated ADD that still holds everything.
  let decided: Claim[] = [];
  let refusal: unknown;
  try {
    decided = decideClaims(layout, pod, request);
  } catch (e) {
    refusal = e;
  }
  const start = await store.readForAdd(containerId, ifname, decided.flatMap((c) => (c.kind === 'free' ? c.pools.map((p) => p.pool.id) : [])));
  const previous = start.ips ?? [];
  const records = await Promise.all(previous.map((ip) => store.read(ip)));
  // A repeated ADD keeps what the attachment still holds and claims only what it lost.
  const held = records.filter((r): r is Lease => r !== undefined && !isTorn(r) && r.state === 'active' && holdsAttachment(r, containerId, ifname));
  if (previous.length > 0 && held.length === previous.length) return held;
  if (refusal !== undefined) throw refusal;
  const claims = decided.filter((c) => !held.some((l) => l.family === c.family));
  const base = { containerId, ifname, pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid }, state: 'active' as const };
  const taken: Lease[] = [];
  const recordOf = (ips: string[]): AttachmentRecord => ({ containerId, ifname, ips, since: nowText() });
  // Each claim writes the record with it: what the attachment holds so far plus the address claimed.
  const recordWith = (ip: string): AttachmentRecord => recordOf([...held, ...taken].map((l) => l.ip).concat(ip));
  try {
    for (const claim of claims) taken.push(await take(store, layout, claim, base, pod, recordWith, start.hints));
    if (claims.length === 0) await store.writeAttachment(recordOf(held.map((l) => l.ip)));
  } catch (e) {
    // The record stays: it names at most what the attachment holds, and the runtime's DEL
    // after a failed ADD finds a claim whose reply was lost (etcd) through it.
    for (const lease of taken) await releaseIfHeld(store, lease.ip, attachment);
    throw e;
  }
  return [...held, ...taken].sort((a, b) => a.family - b.family);
}

type LeaseBase = Pick<Lease, 'containerId' | 'ifname' | 'pod' | 'state'>;

/** The attachment record to write with the claim of `ip`. */
type RecordWith = (ip: string) => AttachmentRecord;

async function take(store: LeaseStore, layout: PlanLayout, claim: Claim, base: LeaseBase, pod: PodFacts, recordWith: RecordWith, hints: ReadonlyMap<string, bigint>): Promise<Lease> {
  const leaseOf = (ip: string, pool: string | undefined, extra: Partial<Lease> = {}): Lease => ({
    ip,
    family: claim.family,
    ...(pool !== undefined ? { pool } : {}),
    ...base,
    ...extra,
    since: nowText(),
  });
  switch (claim.kind) {
    case 'exact':
      return takeExact(store, leaseOf(claim.ip, claim.pool, claim.sticky ? { sticky: claim.sticky } : {}), pod, recordWith(claim.ip));
    case 'freeOf': {
      for (const ip of claim.ips) {
        const lease = leaseOf(ip, layout.poolContaining(ip)?.pool.id);
        if (await store.claim(lease, { attachment: recordWith(ip) })) return lease;
      }
      throw ipamError(CniCode.poolExhausted, 'NI8101', [claim.reason, claim.ips.length, claim.ips.length, 'other pods']);
    }
    case 'free': {
      for (const pool of claim.pools) {
        const lease = await takeFree(store, pool, hints.get(pool.pool.id), (ip) => leaseOf(ip, pool.pool.id), recordWith);
        if (lease) return lease;
      }
      const records = await store.list();
      const pool = claim.pools[0]!;
      const leases = records.filter((r): r is Lease => !isTorn(r) && r.pool === pool.pool.id);
      const torn = records.filter((r) => isTorn(r) && pool.space.indexOf(r.ip) !== undefined).length;
      const size = claim.pools.reduce((n, p) => n + p.space.size, 0n);
      const name = claim.pools.map((p) => p.pool.name).join('", "');
      throw ipamError(CniCode.poolExhausted, 'NI8101', [name, String(size), String(size), describeHolders(leases, torn)]);
    }
  }
}

/** The exact address, or taking over the lease the same pod identity held before (StatefulSet ordinal, fixed IP). */
async function takeExact(store: LeaseStore, lease: Lease, pod: PodFacts, record: AttachmentRecord): Promise<Lease> {
  if (await store.claim(lease, { attachment: record })) return lease;
  const after = await store.update(
    lease.ip,
    (current) => {
      if (current === undefined) return lease; // released meanwhile
      if (isTorn(current)) return undefined;
      if (holdsAttachment(current, lease.containerId, lease.ifname) && current.state === 'active') return undefined;
      return samePod(current, pod) ? lease : undefined;
    },
    record,
  );
  if (after && !isTorn(after) && holdsAttachment(after, lease.containerId, lease.ifname)) return after;
  if (!after || isTorn(after)) throw storeUnavailable(`${lease.ip} is being claimed by an unfinished ADD`);
  throw ipamError(CniCode.addressTaken, 'NI8104', [lease.ip, describeHolder(after), `${pod.namespace}/${pod.name}`]);
}

/**
 * Where this process's next free search starts, per store and pool: the ADDs the daemon
 * runs at once read the same hint, and would otherwise all race for the address after it.
 */
const searchCursors = new Map<string, bigint>();
/** A cursor further ahead of the store's hint is stale: the pool wrapped, or the hint went back. */
const CURSOR_WINDOW = 256n;

/** Whether `index` lies less than the window ahead of `from` (in a pool that wraps). */
const shortlyAhead = (from: bigint, index: bigint, size: bigint): boolean => (index - from + size) % size < CURSOR_WINDOW;

/** Moves the cursor to `index` if that is shortly ahead of it, or sets it. */
function advanceCursor(key: string, index: bigint, size: bigint): void {
  const cursor = searchCursors.get(key);
  if (cursor === undefined || shortlyAhead(cursor, index, size)) searchCursors.set(key, index);
}

/**
 * The next free address of a pool. Optimistic phase: the address after the hint (or after
 * this process's cursor, when that is a little ahead) is nearly always free (O(1) however
 * many leases exist); after a lost race the search jumps a random, growing stride ahead,
 * so concurrent allocators stop chasing the same address. Then a snapshot phase: one read
 * of the store, and every address not held, in order, so a full pool is known exhausted
 * after one pass. Undefined when the pool is full.
 */
async function takeFree(store: LeaseStore, pool: PoolLayout, hint: bigint | undefined, leaseOf: (ip: string) => Lease, recordWith: RecordWith): Promise<Lease | undefined> {
  const { size } = pool.space;
  if (size === 0n) return undefined;
  const cursorKey = `${store.location}\0${pool.pool.id}`;
  const claimAt = async (index: bigint): Promise<Lease | undefined> => {
    const lease = leaseOf(pool.space.at(index)!);
    if (!(await store.claim(lease, { hint: { pool: pool.pool.id, index }, attachment: recordWith(lease.ip) }))) return undefined;
    advanceCursor(cursorKey, (index + 1n) % size, size);
    return lease;
  };
  const afterHint = hint === undefined ? 0n : (hint + 1n) % size;
  const cursor = searchCursors.get(cursorKey);
  let index = cursor !== undefined && shortlyAhead(afterHint, cursor, size) ? cursor : afterHint;
  // Taken before the first await: the next ADD of this process starts one further.
  searchCursors.set(cursorKey, (index + 1n) % size);
  for (let miss = 0; miss < OPTIMISTIC_TRIES; miss++) {
    const lease = await claimAt(index);
    if (lease) return lease;
    const stride = 1 + Math.floor(Math.random() * Math.min(2 ** miss, MAX_STRIDE));
    index = (index + BigInt(stride)) % size;
  }
  const held = new Set((await store.list()).map((r) => r.ip));
  for (const candidate of candidateIndexes(size, (index + size - 1n) % size)) {
    if (held.has(pool.space.at(candidate)!)) continue;
    const lease = await claimAt(candidate);
    if (lease) return lease;
  }
  return undefined;
}

/** The release of a lease this attachment still holds; a newer holder is left alone. */
function releaseOf(attachment: Attachment): LeaseChange {
  return (current) => {
    if (!current || isTorn(current) || current.state !== 'active' || !holdsAttachment(current, attachment.containerId, attachment.ifname)) return undefined;
    return afterRelease(current);
  };
}

/** Releases one IP if this attachment still holds it; returns the lease released. */
async function releaseIfHeld(store: LeaseStore, ip: string, attachment: Attachment): Promise<Lease | undefined> {
  let released: Lease | undefined;
  const release = releaseOf(attachment);
  await store.update(ip, (current) => {
    const next = release(current);
    if (next !== undefined) released = current as Lease;
    return next;
  });
  return released;
}

/** DEL: idempotent; a lease since taken over by a newer container is kept. */
export async function deleteAttachment(store: LeaseStore, attachment: Attachment): Promise<Lease[]> {
  return store.releaseAttachment(attachment.containerId, attachment.ifname, releaseOf(attachment));
}

/** CHECK: the attachment still holds every address (and those ADD returned, when given). */
export async function checkAttachment(store: LeaseStore, attachment: Attachment, expectedIps: string[] | undefined): Promise<void> {
  const who = attachmentKey(attachment.containerId, attachment.ifname);
  const ips = await store.readAttachment(attachment.containerId, attachment.ifname);
  if (!ips) throw ipamError(CniCode.checkFailed, 'NI8112', [who, 'the store has no lease for this attachment']);
  for (const ip of ips) {
    const record = await store.read(ip);
    if (!record || isTorn(record) || record.state !== 'active' || !holdsAttachment(record, attachment.containerId, attachment.ifname)) {
      throw ipamError(CniCode.checkFailed, 'NI8112', [who, `${ip} is ${record && !isTorn(record) ? `leased by ${describeHolder(record)}` : 'not leased'}`]);
    }
  }
  const missing = (expectedIps ?? []).filter((ip) => !ips.includes(ip));
  if (missing.length) throw ipamError(CniCode.checkFailed, 'NI8112', [who, `${missing.join(', ')} returned by ADD is not leased to it`]);
}

export interface GcOutcome {
  released: Lease[];
  tornRemoved: string[];
  attachmentsForgotten: Attachment[];
  debris: string[];
}

/**
 * CNI GC (spec 1.1): every lease whose attachment is not in the valid list is released
 * (sticky leases stay reserved for their ordinal), torn claims are removed, and stale
 * attachment records and debris of killed plugins are dropped. Leases, claims and records
 * younger than `graceMs` are left: their ADD may still be running.
 */
export async function gcAttachments(store: LeaseStore, valid: readonly Attachment[], graceMs: number): Promise<GcOutcome> {
  const keep = new Set(valid.map((a) => attachmentKey(a.containerId, a.ifname)));
  const outcome: GcOutcome = { released: [], tornRemoved: [], attachmentsForgotten: [], debris: await store.collectDebris() };
  const attachments = await store.listAttachments();
  const stillLeased = new Set<string>();
  for (const record of await store.list()) {
    if (isTorn(record)) {
      if (record.ageMs < graceMs) continue;
      const after = await store.update(record.ip, (current) => (current && isTorn(current) ? null : undefined));
      if (after === undefined) outcome.tornRemoved.push(record.ip);
      continue;
    }
    if (record.state !== 'active') continue;
    const key = attachmentKey(record.containerId, record.ifname);
    if (keep.has(key) || Date.now() - Date.parse(record.since) < graceMs) {
      stillLeased.add(key);
      continue;
    }
    const released = await releaseIfHeld(store, record.ip, record);
    if (released) outcome.released.push(released);
  }
  for (const a of attachments) {
    const key = attachmentKey(a.containerId, a.ifname);
    if (keep.has(key) || stillLeased.has(key) || recordedWithin(a, graceMs)) continue;
    await store.deleteAttachment(a.containerId, a.ifname);
    outcome.attachmentsForgotten.push({ containerId: a.containerId, ifname: a.ifname });
  }
  return outcome;
}

/** A record written less than `graceMs` ago: its ADD, which writes the record before it claims, may still run. */
const recordedWithin = (record: AttachmentRecord, graceMs: number): boolean => record.since !== undefined && Date.now() - Date.parse(record.since) < graceMs;

/**
 * Applies the inventory GC's decisions. Each one is a compare-and-swap on the lease as
 * it was read: a lease changed meanwhile (a new ADD took it) is left alone. Attachment
 * records left without leases (older than `graceMs`) and the debris of killed plugins go too.
 */
export async function applyGcActions(store: LeaseStore, actions: readonly GcAction[], graceMs: number): Promise<GcAction[]> {
  const applied: GcAction[] = [];
  for (const action of actions) {
    let done = false;
    await store.update(action.kind === 'removeTorn' ? action.ip : action.lease.ip, (current) => {
      if (action.kind === 'removeTorn') {
        done = current !== undefined && isTorn(current);
        return done ? null : undefined;
      }
      const seen = action.lease;
      if (!current || isTorn(current) || current.containerId !== seen.containerId || current.ifname !== seen.ifname || current.since !== seen.since) return undefined;
      done = true;
      return action.kind === 'delete' ? null : { ...current, state: 'released', since: nowText() };
    });
    if (done) applied.push(action);
  }
  const attachments = await store.listAttachments();
  const records = await store.list();
  const holders = new Set(records.filter((r): r is Lease => !isTorn(r) && r.state === 'active').map((l) => `${attachmentKey(l.containerId, l.ifname)} ${l.ip}`));
  for (const a of attachments) {
    if (recordedWithin(a, graceMs) || a.ips.some((ip) => holders.has(`${attachmentKey(a.containerId, a.ifname)} ${ip}`))) continue;
    await store.deleteAttachment(a.containerId, a.ifname);
  }
  await store.collectDebris();
  return applied;
}
