/**
 * The file lease store (one node), in `DIR/NETWORK/`:
 *
 *   leases/IP              one human-readable JSON lease per leased IP
 *   attachments/CID_IF     the IPs an attachment got (DEL's index)
 *   hints/POOL             the index last handed out in the pool
 *
 * A lease is claimed by creating its file with O_CREAT|O_EXCL, which is atomic, so
 * concurrent ADDs race per address (EEXIST → next candidate) and no global lock is held.
 * The claim writes the content through that descriptor and fsyncs it and the directory;
 * an ADD killed before finishing leaves an empty "torn" file that readers treat as taken
 * and GC removes after a grace period. Later changes of a lease (DEL, sticky take-over)
 * write a temp file, fsync, rename over it, fsync the directory, under a per-IP lock
 * file, so a read-modify-write never loses a concurrent one.
 *
 * The fsyncs are asynchronous (libuv's thread pool): in the long-lived IPAM daemon,
 * concurrent commands then wait for the disk together instead of one after the other.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { CniCode, ipamError, storeUnavailable } from '../errors.js';
import { formatLease, parseLease, type Lease, type LeaseRecord } from '../lease.js';
import type { AttachmentRecord, LeaseChange, LeaseStore, PoolHint } from './index.js';

const LOCK_TIMEOUT_MS = 10_000;
const STALE_EMPTY_LOCK_MS = 2_000;

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

export class FileLeaseStore implements LeaseStore {
  private readonly leases: string;
  private readonly attachments: string;
  private readonly hints: string;

  constructor(dir: string, network: string) {
    const root = join(dir, network);
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

  private leasePath(ip: string): string {
    return join(this.leases, ip);
  }

  async claim(lease: Lease, hint?: PoolHint): Promise<boolean> {
    if (!(await this.createExclusive(lease))) return false;
    // Not fsynced: losing the hint only costs a longer search after a crash.
    if (hint) await this.ioAsync(() => this.writeAtomically(this.hints, fileName(hint.pool), String(hint.index), false));
    return true;
  }

  /** O_CREAT|O_EXCL, content through that descriptor, fsync file and directory. */
  private async createExclusive(lease: Lease): Promise<boolean> {
    let fd: number;
    try {
      fd = fs.openSync(this.leasePath(lease.ip), fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
    } catch (e) {
      if (isErrno(e, 'EEXIST')) return false;
      throw ioFailure(e);
    }
    await this.ioAsync(async () => {
      try {
        fs.writeSync(fd, formatLease(lease)); // before any await: this process never shows others an empty claim
        await fsync(fd);
      } finally {
        fs.closeSync(fd);
      }
      await fsyncDir(this.leases);
    });
    return true;
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

  async update(ip: string, change: LeaseChange): Promise<LeaseRecord | undefined> {
    const unlock = await this.lock(ip);
    try {
      for (;;) {
        const current = this.readRecord(ip);
        const next = change(current);
        if (next === undefined) return current;
        if (next === null) {
          // With no file there is nothing to delete, and a claim may be creating one now.
          if (current !== undefined) {
            await this.ioAsync(async () => {
              fs.rmSync(this.leasePath(ip), { force: true });
              await fsyncDir(this.leases);
            });
          }
          return undefined;
        }
        // No file: claims (which take no lock) may race us for it, so create it the way they do.
        if (current === undefined) {
          if (await this.createExclusive(next)) return next;
          continue;
        }
        // An existing file changes only under this lock: a rename cannot overwrite anyone's claim.
        await this.ioAsync(async () => {
          await this.writeAtomically(this.leases, ip, formatLease(next), true);
          await fsyncDir(this.leases);
        });
        return next;
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
        return () => fs.rmSync(path, { force: true });
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
          fs.rmSync(aside, { force: true });
        } catch {
          // another process broke or re-took it: just retry
        }
        continue;
      }
      if (Date.now() > deadline) throw storeUnavailable(`lease ${ip} is locked by process ${holder.split(' ')[0]}`);
      await sleep(wait);
    }
  }

  /** temp file + fsync + rename (+ the caller fsyncs the directory when it must be durable). */
  private async writeAtomically(dir: string, name: string, text: string, durable: boolean): Promise<void> {
    const temp = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const fd = fs.openSync(temp, 'w', 0o644);
    try {
      fs.writeSync(fd, text);
      if (durable) await fsync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, join(dir, name));
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

  private attachmentName(containerId: string, ifname: string): string {
    return `${fileName(containerId)}_${fileName(ifname)}`;
  }

  async readAttachment(containerId: string, ifname: string): Promise<string[] | undefined> {
    try {
      const record = JSON.parse(fs.readFileSync(join(this.attachments, this.attachmentName(containerId, ifname)), 'utf8')) as AttachmentRecord;
      return record.ips;
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return undefined;
      throw ioFailure(e);
    }
  }

  async writeAttachment(record: AttachmentRecord): Promise<void> {
    await this.ioAsync(async () => {
      await this.writeAtomically(this.attachments, this.attachmentName(record.containerId, record.ifname), `${JSON.stringify(record, null, 2)}\n`, true);
      await fsyncDir(this.attachments);
    });
  }

  async deleteAttachment(containerId: string, ifname: string): Promise<void> {
    await this.ioAsync(async () => {
      fs.rmSync(join(this.attachments, this.attachmentName(containerId, ifname)), { force: true });
      await fsyncDir(this.attachments);
    });
  }

  async listAttachments(): Promise<AttachmentRecord[]> {
    const names = this.io(() => fs.readdirSync(this.attachments)).filter((n) => !n.startsWith('.'));
    const out: AttachmentRecord[] = [];
    for (const name of names.sort()) {
      try {
        out.push(JSON.parse(fs.readFileSync(join(this.attachments, name), 'utf8')) as AttachmentRecord);
      } catch (e) {
        if (!isErrno(e, 'ENOENT')) throw ipamError(CniCode.ioFailure, 'NI8115', [`${name}: ${(e as Error).message}`]);
      }
    }
    return out;
  }

  async readHint(pool: string): Promise<bigint | undefined> {
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
          fs.rmSync(path, { force: true });
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
