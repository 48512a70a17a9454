/**
 * The file lease store (one node), in `DIR/NETWORK/`:
 *
 *   leases/IP              one human-readable JSON lease per leased IP
 *   attachments/CID_IF     the IPs an attachment holds (DEL's index)
 *   hints/POOL             the index last handed out in the pool
 *
 * A lease is claimed by creating its file with O_CREAT|O_EXCL, which is atomic, so
 * concurrent ADDs race per address (EEXIST → next candidate) and no global lock is held.
 * The claim writes the content through that descriptor; an ADD killed before writing it
 * leaves an empty "torn" file that readers treat as taken and GC removes after a grace
 * period. The attachment record is written (temp file + rename) just before the claim,
 * naming the address about to be claimed, so a killed ADD never leaves a lease that DEL
 * cannot find. Later changes of a lease (DEL, sticky take-over) happen under a per-IP
 * lock file, so a read-modify-write never loses a concurrent one.
 *
 * Durability: a command answers only once the files and directories it wrote are
 * fsynced, and it issues those fsyncs together at its end (on libuv's thread pool). A
 * journaling file system commits all pending changes at the first fsync, and the others
 * join that commit: one journal commit per command instead of one per fsync. Under load a
 * commit costs milliseconds, far more than the syscalls of a claim. A power loss before
 * the command answered may leave a torn lease, an empty attachment record (read as
 * naming nothing) or a lease its record does not name yet (CNI GC releases it).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { CniCode, ipamError, storeUnavailable } from '../errors.js';
import { formatLease, isTorn, parseAttachmentRecord, parseLease, type AttachmentRecord, type Lease, type LeaseRecord } from '../lease.js';
import type { AddStart, ClaimCompanions, LeaseChange, LeaseStore, PoolHint } from './index.js';

const LOCK_TIMEOUT_MS = 10_000;
const STALE_EMPTY_LOCK_MS = 2_000;
/** Hints are overwritten in place at a fixed width (a 128-bit index has at most 39 digits). */
const HINT_WIDTH = 40;

const isErrno = (e: unknown, code: string): boolean => (e as NodeJS.ErrnoException | null)?.code === code;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const fsync = promisify(fs.fsync);

async function fsyncDir(dir: string): Promise<void> {
  const fd = fs.openSync(dir, 'r');
  try {
    await fsync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function unlinkIfPresent(path: string): void {
  try {
    fs.unlinkSync(path);
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e;
  }
}

/**
 * For files that were fsynced (leases, records): freeing their blocks can wait for the
 * journal, milliseconds under load, so it runs on the thread pool, not the event loop.
 */
async function unlinkSyncedIfPresent(path: string): Promise<void> {
  try {
    await fs.promises.unlink(path);
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e;
  }
}

const ioFailure = (e: unknown) => ipamError(CniCode.ioFailure, 'NI8115', [(e as Error).message]);

/** IPv6 colons are fine on Linux; container ids and pool ids are escaped. */
const fileName = (text: string): string => encodeURIComponent(text);

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return isErrno(e, 'EPERM');
  }
}

/** The fsyncs a command owes before it answers, issued together once its writes are done. */
class PendingSyncs {
  private readonly files: number[] = [];
  private readonly dirs = new Set<string>();

  /** Takes `fd` over: it is closed once synced or discarded. */
  addFile(fd: number): void {
    this.files.push(fd);
  }

  addDir(dir: string): void {
    this.dirs.add(dir);
  }

  async flush(): Promise<void> {
    const files = this.files.splice(0);
    const dirs = [...this.dirs];
    this.dirs.clear();
    // Settled, not Promise.all: no descriptor is closed while an fsync still uses it.
    const outcomes = await Promise.allSettled([...files.map((fd) => fsync(fd)), ...dirs.map(fsyncDir)]);
    for (const fd of files) fs.closeSync(fd);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Closes the files unsynced: what they hold was superseded or is not needed. */
  discard(): void {
    for (const fd of this.files.splice(0)) fs.closeSync(fd);
    this.dirs.clear();
  }
}

export class FileLeaseStore implements LeaseStore {
  readonly location: string;
  private readonly leases: string;
  private readonly attachments: string;
  private readonly hints: string;

  constructor(dir: string, network: string) {
    const root = join(dir, network);
    this.location = `file:${root}`;
    this.leases = join(root, 'leases');
    this.attachments = join(root, 'attachments');
    this.hints = join(root, 'hints');
    this.io(() => {
      for (const d of [this.leases, this.attachments, this.hints]) fs.mkdirSync(d, { recursive: true });
    });
  }

  /** Runs file-system work, turning failures into CNI I/O errors. */
  private io<T>(work: () => T): T {
    try {
      return work();
    } catch (e) {
      throw ioFailure(e);
    }
  }

  private async ioAsync<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      throw ioFailure(e);
    }
  }

  /** Runs `work`, then the fsyncs it owes; on failure its unsynced files are closed. */
  private async durably<T>(work: (syncs: PendingSyncs) => Promise<T>): Promise<T> {
    const syncs = new PendingSyncs();
    try {
      const result = await work(syncs);
      await this.ioAsync(() => syncs.flush());
      return result;
    } finally {
      syncs.discard();
    }
  }

  private leasePath(ip: string): string {
    return join(this.leases, ip);
  }

  async claim(lease: Lease, companions: ClaimCompanions = {}): Promise<boolean> {
    const syncs = new PendingSyncs();
    try {
      if (companions.attachment) await this.writeRecord(companions.attachment, syncs);
      // A lost race needs nothing durable: the next candidate rewrites the record.
      if (!this.createExclusive(lease, syncs)) return false;
      if (companions.hint) this.writeHint(companions.hint);
      await this.ioAsync(() => syncs.flush());
      return true;
    } finally {
      syncs.discard();
    }
  }

  /** O_CREAT|O_EXCL and the content through that descriptor; false when the file exists. */
  private createExclusive(lease: Lease, syncs: PendingSyncs): boolean {
    let fd: number;
    try {
      fd = fs.openSync(this.leasePath(lease.ip), fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
    } catch (e) {
      if (isErrno(e, 'EEXIST')) return false;
      throw ioFailure(e);
    }
    syncs.addFile(fd);
    syncs.addDir(this.leases);
    this.io(() => fs.writeSync(fd, formatLease(lease)));
    return true;
  }

  /** Overwritten in place and not synced: a lost or torn hint only costs a longer search. */
  private writeHint(hint: PoolHint): void {
    try {
      const fd = fs.openSync(join(this.hints, fileName(hint.pool)), fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o644);
      try {
        fs.writeSync(fd, String(hint.index).padEnd(HINT_WIDTH), 0);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      // a hint is only a hint
    }
  }

  private readRecord(ip: string): LeaseRecord | undefined {
    const path = this.leasePath(ip);
    try {
      const lease = parseLease(fs.readFileSync(path, 'utf8'));
      return lease ?? { ip, torn: true, ageMs: Math.max(0, Date.now() - fs.statSync(path).mtimeMs) };
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return undefined;
      throw ioFailure(e);
    }
  }

  async read(ip: string): Promise<LeaseRecord | undefined> {
    return this.readRecord(ip);
  }

  async update(ip: string, change: LeaseChange, attachment?: AttachmentRecord): Promise<LeaseRecord | undefined> {
    return this.durably(async (syncs) => {
      if (attachment) await this.writeRecord(attachment, syncs);
      return (await this.changeLocked(ip, change, syncs)).after;
    });
  }

  async releaseAttachment(containerId: string, ifname: string, change: LeaseChange): Promise<Lease[]> {
    const ips = await this.readAttachment(containerId, ifname);
    if (ips === undefined) return [];
    return this.durably(async (syncs) => {
      const released: Lease[] = [];
      for (const ip of ips) {
        const { before, changed } = await this.changeLocked(ip, change, syncs);
        if (changed && before && !isTorn(before)) released.push(before);
      }
      await this.ioAsync(() => unlinkSyncedIfPresent(this.recordPath(containerId, ifname)));
      syncs.addDir(this.attachments);
      return released;
    });
  }

  /** One read-modify-write of a lease under its lock; the writes join `syncs`. */
  private async changeLocked(ip: string, change: LeaseChange, syncs: PendingSyncs): Promise<{ before: LeaseRecord | undefined; after: LeaseRecord | undefined; changed: boolean }> {
    const unlock = await this.lock(ip);
    try {
      for (;;) {
        const current = this.readRecord(ip);
        const next = change(current);
        if (next === undefined) return { before: current, after: current, changed: false };
        if (next === null) {
          // With no file there is nothing to delete, and a claim may be creating one now.
          if (current === undefined) return { before: current, after: undefined, changed: false };
          await this.ioAsync(() => unlinkSyncedIfPresent(this.leasePath(ip)));
          syncs.addDir(this.leases);
          return { before: current, after: undefined, changed: true };
        }
        // No file: claims (which take no lock) may race us for it, so create it the way they do.
        if (current === undefined) {
          if (this.createExclusive(next, syncs)) return { before: current, after: next, changed: true };
          continue;
        }
        // An existing file changes only under this lock: a rename cannot overwrite anyone's claim.
        // Its content is synced before the rename: a power loss never leaves a held address torn.
        await this.ioAsync(() => this.writeReplacing(this.leases, ip, formatLease(next), syncs, true));
        return { before: current, after: next, changed: true };
      }
    } finally {
      unlock();
    }
  }

  /**
   * A per-IP lock file holding the owner's pid and a token. A lock whose process is gone
   * (killed mid-update) is broken by renaming it aside and checking that the file moved
   * is still that dead owner's, so two breakers never both win.
   */
  private async lock(ip: string): Promise<() => void> {
    const path = join(this.leases, `.${ip}.lock`);
    const mine = `${process.pid} ${randomBytes(6).toString('hex')}`;
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
      try {
        fs.writeFileSync(path, mine, { flag: 'wx' });
        return () => unlinkIfPresent(path);
      } catch (e) {
        if (!isErrno(e, 'EEXIST')) throw ioFailure(e);
      }
      let holder = '';
      let ageMs = 0;
      try {
        holder = fs.readFileSync(path, 'utf8');
        ageMs = Date.now() - fs.statSync(path).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      const pid = Number(holder.split(' ')[0]);
      // An empty lock file is a locker killed between create and write (or one writing now).
      const dead = holder === '' ? ageMs > STALE_EMPTY_LOCK_MS : Number.isInteger(pid) && !processAlive(pid);
      if (dead) {
        const aside = `${path}.broken-${randomBytes(6).toString('hex')}`;
        try {
          fs.renameSync(path, aside);
          if (fs.readFileSync(aside, 'utf8') !== holder) fs.linkSync(aside, path); // a live lock: put it back
          unlinkIfPresent(aside);
        } catch {
          // another process broke or re-took it: just retry
        }
        continue;
      }
      if (Date.now() > deadline) throw storeUnavailable(`lease ${ip} is locked by process ${holder.split(' ')[0]}`);
      await sleep(wait);
    }
  }

  /**
   * A temp file renamed over `dir/name`, so that readers see the old content or the new,
   * never a part. Its descriptor joins `syncs`; `syncFirst` also fsyncs the content before
   * the rename.
   */
  private async writeReplacing(dir: string, name: string, text: string, syncs: PendingSyncs, syncFirst: boolean): Promise<void> {
    const temp = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const fd = fs.openSync(temp, 'w', 0o644);
    syncs.addFile(fd);
    fs.writeSync(fd, text);
    if (syncFirst) await fsync(fd);
    fs.renameSync(temp, join(dir, name));
    syncs.addDir(dir);
  }

  async list(): Promise<LeaseRecord[]> {
    const names = this.io(() => fs.readdirSync(this.leases)).filter((n) => !n.startsWith('.'));
    const records: LeaseRecord[] = [];
    for (const name of names.sort()) {
      const record = this.readRecord(name);
      if (record) records.push(record);
    }
    return records;
  }

  private recordPath(containerId: string, ifname: string): string {
    return join(this.attachments, `${fileName(containerId)}_${fileName(ifname)}`);
  }

  private async writeRecord(record: AttachmentRecord, syncs: PendingSyncs): Promise<void> {
    await this.ioAsync(() => this.writeReplacing(this.attachments, `${fileName(record.containerId)}_${fileName(record.ifname)}`, `${JSON.stringify(record, null, 2)}\n`, syncs, false));
  }

  /** An unreadable record (emptied by a power loss before its ADD answered) names nothing. */
  async readAttachment(containerId: string, ifname: string): Promise<string[] | undefined> {
    let text: string;
    try {
      text = fs.readFileSync(this.recordPath(containerId, ifname), 'utf8');
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return undefined;
      throw ioFailure(e);
    }
    return parseAttachmentRecord(text)?.ips ?? [];
  }

  async writeAttachment(record: AttachmentRecord): Promise<void> {
    await this.durably((syncs) => this.writeRecord(record, syncs));
  }

  async deleteAttachment(containerId: string, ifname: string): Promise<void> {
    await this.durably(async (syncs) => {
      await this.ioAsync(() => unlinkSyncedIfPresent(this.recordPath(containerId, ifname)));
      syncs.addDir(this.attachments);
    });
  }

  /** Unreadable records are left out: they name nothing, and DEL of their attachment removes them. */
  async listAttachments(): Promise<AttachmentRecord[]> {
    const names = this.io(() => fs.readdirSync(this.attachments)).filter((n) => !n.startsWith('.'));
    const out: AttachmentRecord[] = [];
    for (const name of names.sort()) {
      try {
        const record = parseAttachmentRecord(fs.readFileSync(join(this.attachments, name), 'utf8'));
        if (record) out.push(record);
      } catch (e) {
        if (!isErrno(e, 'ENOENT')) throw ipamError(CniCode.ioFailure, 'NI8115', [`${name}: ${(e as Error).message}`]);
      }
    }
    return out;
  }

  async readForAdd(containerId: string, ifname: string, pools: readonly string[]): Promise<AddStart> {
    const hints = new Map<string, bigint>();
    for (const pool of pools) {
      const hint = this.readHint(pool);
      if (hint !== undefined) hints.set(pool, hint);
    }
    return { ips: await this.readAttachment(containerId, ifname), hints };
  }

  private readHint(pool: string): bigint | undefined {
    try {
      const text = fs.readFileSync(join(this.hints, fileName(pool)), 'utf8').trim();
      return /^[0-9]+$/.test(text) ? BigInt(text) : undefined;
    } catch {
      return undefined; // a hint is only a hint
    }
  }

  /**
   * Temp files (`.NAME.PID.RAND.tmp`) and lock files (`.IP.lock`, content `PID TOKEN`) of
   * processes that no longer run.
   */
  async collectDebris(): Promise<string[]> {
    const removed: string[] = [];
    for (const dir of [this.leases, this.attachments, this.hints]) {
      for (const name of this.io(() => fs.readdirSync(dir))) {
        if (!name.startsWith('.')) continue;
        const path = join(dir, name);
        try {
          let pid: number;
          if (name.endsWith('.tmp')) pid = Number(name.split('.').at(-3));
          else if (name.endsWith('.lock')) {
            const holder = fs.readFileSync(path, 'utf8');
            // An empty lock may be one being written right now.
            if (holder === '' && Date.now() - fs.statSync(path).mtimeMs < STALE_EMPTY_LOCK_MS) continue;
            pid = Number(holder.split(' ')[0]);
          } else if (name.includes('.lock.broken-')) pid = NaN;
          else continue;
          if (Number.isInteger(pid) && processAlive(pid)) continue;
          unlinkIfPresent(path);
          removed.push(name);
        } catch (e) {
          if (!isErrno(e, 'ENOENT')) throw ioFailure(e);
        }
      }
    }
    return removed;
  }

  async ping(): Promise<void> {
    this.io(() => fs.accessSync(this.leases, fs.constants.W_OK));
  }

  async close(): Promise<void> {}
}
