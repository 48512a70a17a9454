/**
 * Files the plugin reads for every command (the plan, the inventory), parsed once per
 * version of the file in a long-lived process (the IPAM daemon). A version is known by the
 * file's identity: device, inode, size, modification and change times, from one stat per
 * use. File times advance in clock ticks (unless the kernel has multigrain timestamps,
 * Linux 6.13 on), so a file changed less than a tick before it was read could change
 * again without new times: such a "racy" entry (git's term) is checked by content at the
 * next use instead, and parsed again only if the content differs.
 */
import { readFileSync, statSync } from 'node:fs';

/** Changes this recent may share their times with a later one (a tick is a few ms; clocks also step). */
const RACY_NS = 2_000_000_000n;

interface Entry<T> {
  identity: string;
  text: string;
  value: T;
  /** Old enough at its read that any later change shows in the identity. */
  settled: boolean;
}

export class ParsedFileCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  /** `cannotRead` makes the error for a file that cannot be read; `parse` may throw too (nothing is kept then). */
  constructor(
    private readonly parse: (path: string, text: string) => T,
    private readonly cannotRead: (path: string, error: Error) => Error,
  ) {}

  read(path: string): T {
    let identity: string;
    let changedNs: bigint;
    let text: string;
    const entry = this.entries.get(path);
    try {
      const stat = statSync(path, { bigint: true });
      identity = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
      if (entry?.settled && entry.identity === identity) return entry.value;
      changedNs = stat.mtimeNs > stat.ctimeNs ? stat.mtimeNs : stat.ctimeNs;
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw this.cannotRead(path, e as Error);
    }
    const settled = BigInt(Date.now()) * 1_000_000n - changedNs > RACY_NS;
    const value = entry !== undefined && entry.text === text ? entry.value : this.parse(path, text);
    this.entries.set(path, { identity, text, value, settled });
    return value;
  }
}
