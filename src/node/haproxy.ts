/**
 * Edge: runs HAProxy in master-worker mode (`-W -S <master socket>`) in the node's network
 * namespace. A new configuration is validated (`haproxy -c`) and then loaded with `reload`
 * on the master CLI: the master starts new workers and the old ones finish their
 * connections, so a reload drops none. A crash is reported and the master restarted.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { SupervisedProcess, type ProxyState } from './supervise.js';

export interface HaproxyOptions {
  /** Directory for the configuration and the master socket (created by the caller). */
  dir: string;
  netns?: string;
  bin?: string;
  onState?(state: ProxyState, detail: string): void;
}

/** One master CLI command and its answer (up to the empty line that ends it, or the close). */
export function masterCommand(socket: string, command: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socket);
    let out = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`master CLI "${command}" timed out`));
    }, timeoutMs);
    s.on('connect', () => s.write(`${command}\n`));
    s.on('data', (d) => {
      out += d.toString();
      // An answer ends with an empty line; the master keeps the connection open after it.
      if (out.endsWith('\n\n')) s.end();
    });
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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class HaproxyProxy {
  readonly configPath: string;
  readonly socketPath: string;
  private readonly process: SupervisedProcess;
  private readonly bin: string;

  constructor(opts: HaproxyOptions) {
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

  async start(config: string): Promise<void> {
    await writeFile(this.configPath, config);
    await this.validate();
    await this.process.start();
  }

  /** Loads a new configuration without dropping connections; resolves once new workers serve. */
  async reload(config: string): Promise<void> {
    await writeFile(this.configPath, config);
    await this.validate();
    const before = currentWorkers(await masterCommand(this.socketPath, 'show proc'));
    await masterCommand(this.socketPath, 'reload').catch(() => ''); // the master re-executes and closes the CLI
    await this.waitForWorkers(before, 10_000);
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
