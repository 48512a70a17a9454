/**
 * Edge: runs HAProxy in master-worker mode (`-W -S <master socket>`) in the node's network
 * namespace. A new configuration is validated (`haproxy -c`) and then loaded with `reload`
 * on the master CLI: the master starts new workers and the old ones finish their
 * connections, so a reload drops none. A crash is reported and the master restarted.
 * The source ACL files are written next to the configuration (before any start or reload,
 * so a restart loads the current lists); `updateAcls` changes them in the running workers
 * without a reload.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { dirname, join } from 'node:path';
import type { HaproxyAclChange, HaproxyAclFiles } from '../backends/l7/index.js';
import { SupervisedProcess, type ProxyState } from './supervise.js';

export interface HaproxyOptions {
  /** Directory for the configuration, its ACL files (`acl/`) and the master socket (created by the caller). */
  dir: string;
  netns?: string;
  bin?: string;
  onState?(state: ProxyState, detail: string): void;
}

/**
 * Master CLI commands (one a line) and their answers. The write side is closed after them:
 * the master then runs them all and closes the connection once it has answered.
 */
export function masterCommand(socket: string, commands: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socket);
    let out = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`master CLI "${commands.split('\n')[0]}" timed out`));
    }, timeoutMs);
    s.on('connect', () => s.end(`${commands}\n`));
    s.on('data', (d) => (out += d.toString()));
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** Worker pids from `show proc` (current workers only, not the old ones finishing). */
export function currentWorkers(showProc: string): number[] {
  const pids: number[] = [];
  let section = '';
  for (const line of showProc.split('\n')) {
    if (line.startsWith('#')) {
      section = line.includes('old workers') ? 'old' : line.includes('workers') ? 'workers' : section;
      continue;
    }
    const m = /^(\d+)\s+worker\b/.exec(line);
    if (m && section === 'workers') pids.push(Number(m[1]));
  }
  return pids;
}

/** The patterns of one ACL from a worker's `show acl <file>` (lines `0x55d0… 10.1.2.3`). */
export function aclPatterns(showAcl: string): string[] {
  return showAcl.split('\n').flatMap((line) => /^0x[0-9a-f]+ (.+)$/.exec(line)?.[1] ?? []);
}

/** A pattern file: one pattern a line. */
const aclFileText = (patterns: readonly string[]): string => patterns.map((p) => `${p}\n`).join('');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class HaproxyProxy {
  /** The configuration's directory: ACL file names are relative to it (`default-path config`). */
  private readonly dir: string;
  readonly configPath: string;
  readonly socketPath: string;
  private readonly process: SupervisedProcess;
  private readonly bin: string;

  constructor(opts: HaproxyOptions) {
    this.dir = opts.dir;
    this.configPath = join(opts.dir, 'haproxy.cfg');
    this.socketPath = join(opts.dir, 'master.sock');
    this.bin = opts.bin ?? 'haproxy';
    this.process = new SupervisedProcess({
      name: 'haproxy',
      debianPackage: 'haproxy',
      argv: [this.bin, '-W', '-db', '-S', `${this.socketPath},mode,600`, '-f', this.configPath],
      ...(opts.netns ? { netns: opts.netns } : {}),
      ready: () => this.waitForWorkers([], 10_000),
      ...(opts.onState ? { onState: opts.onState } : {}),
    });
  }

  get state(): ProxyState {
    return this.process.state;
  }

  get restarts(): number {
    return this.process.restarts;
  }

  get masterPid(): number | undefined {
    return this.process.pid;
  }

  /** Rejects with HAProxy's own message when the configuration is invalid. */
  validate(): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(this.bin, ['-c', '-q', '-f', this.configPath], (err, _stdout, stderr) => {
        if (!err) return resolve();
        const e = err as NodeJS.ErrnoException;
        reject(new Error(e.code === 'ENOENT' ? `\`${this.bin}\` not found (Debian package haproxy)` : `invalid HAProxy configuration: ${stderr.trim()}`));
      });
    });
  }

  async start(config: string, acls: HaproxyAclFiles): Promise<void> {
    await this.writeFiles(config, acls);
    await this.validate();
    await this.process.start();
  }

  /** Loads a new configuration without dropping connections; resolves once new workers serve. */
  async reload(config: string, acls: HaproxyAclFiles): Promise<void> {
    await this.writeFiles(config, acls);
    await this.validate();
    const before = currentWorkers(await masterCommand(this.socketPath, 'show proc'));
    await masterCommand(this.socketPath, 'reload').catch(() => ''); // the master re-executes and closes the CLI
    await this.waitForWorkers(before, 10_000);
  }

  /**
   * Writes the configuration and its ACL files, each replaced by a rename (a master starting
   * meanwhile never reads half a file); ACL files no longer listed are removed.
   */
  private async writeFiles(config: string, acls: HaproxyAclFiles): Promise<void> {
    await this.writeAclFiles(acls);
    await writeFile(this.configPath, config);
    const wanted = new Set(Object.keys(acls).map((f) => join(this.dir, f)));
    const aclDir = join(this.dir, 'acl');
    for (const name of await readdir(aclDir).catch(() => [])) {
      const path = join(aclDir, name);
      if (!wanted.has(path)) await unlink(path);
    }
  }

  /** Writes (only) the ACL files given. */
  async writeAclFiles(acls: HaproxyAclFiles): Promise<void> {
    for (const [file, patterns] of Object.entries(acls)) {
      const path = join(this.dir, file);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(`${path}.tmp`, aclFileText(patterns));
      await rename(`${path}.tmp`, path);
    }
  }

  /**
   * Adds (`add`) or removes (`remove`) the patterns of `changes` in every current worker
   * through the master CLI, then reads each changed ACL back from each worker (`show acl`).
   * Throws when a command fails or a worker does not hold what was asked. Old workers
   * finishing their connections after a reload keep their lists (hard-stop-after bounds it).
   */
  async updateAcls(changes: readonly HaproxyAclChange[], step: 'add' | 'remove'): Promise<void> {
    const todo = changes.map((c) => ({ file: c.file, patterns: step === 'add' ? c.add : c.remove })).filter((c) => c.patterns.length);
    if (todo.length === 0) return;
    const workers = currentWorkers(await masterCommand(this.socketPath, 'show proc'));
    if (workers.length === 0) throw new Error('no current HAProxy worker');
    for (const pid of workers) {
      const commands = todo.flatMap((c) => c.patterns.map((p) => `@!${pid} ${step === 'add' ? 'add' : 'del'} acl ${c.file} ${p}`));
      // Each command answers an empty line, or an error; a pattern already gone is what was asked.
      const errors = (await masterCommand(this.socketPath, commands.join('\n'))).split('\n').filter((l) => l && l !== 'Key not found.');
      if (errors.length) throw new Error(`worker ${pid}: ${errors.join('; ')}`);
      for (const c of todo) {
        const held = new Set(aclPatterns(await masterCommand(this.socketPath, `@!${pid} show acl ${c.file}`)));
        const wrong = c.patterns.filter((p) => held.has(p) !== (step === 'add'));
        if (wrong.length) throw new Error(`worker ${pid}: ${c.file} ${step === 'add' ? 'lacks' : 'still holds'} ${wrong.join(' ')}`);
      }
    }
  }

  /** Waits until `show proc` lists current workers none of which is in `old`. */
  private async waitForWorkers(old: number[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const workers = currentWorkers(await masterCommand(this.socketPath, 'show proc', 1000));
        if (workers.length > 0 && workers.every((p) => !old.includes(p))) return;
      } catch {
        // socket not there yet, or the master is re-executing
      }
      if (Date.now() > deadline) throw new Error('haproxy workers did not come up');
      await sleep(50);
    }
  }

  /** Simulates a crash (tests): kills the master, which takes its workers with it. */
  kill(): void {
    this.process.signal('SIGKILL');
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}
