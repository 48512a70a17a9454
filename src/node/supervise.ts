/**
 * Edge: keeps one long-running proxy process alive (optionally inside a network
 * namespace). An unexpected exit is reported at once and followed by a restart with
 * back-off; a missing binary is reported with the Debian package that brings it.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export type ProxyState = 'starting' | 'up' | 'down' | 'stopped';

export interface SupervisedOptions {
  /** What it is, for reports: `haproxy`, `dnsmasq dns_ab12`. */
  name: string;
  /** Debian package that brings the binary. */
  debianPackage: string;
  argv: string[];
  netns?: string;
  /** Resolves once the process serves (e.g. its socket answers); rejects if it never does. */
  ready(child: ChildProcess): Promise<void>;
  /** Called on every state change, with the reason for `down`. */
  onState?(state: ProxyState, detail: string): void;
  /** First restart delay; doubles up to 5 s while it keeps failing. */
  restartDelayMs?: number;
  /** Called with every complete line the process prints (stdout or stderr). */
  onLine?(line: string): void;
}

export class SupervisedProcess {
  private child: ChildProcess | undefined;
  private stopping = false;
  private delay: number;
  private timer: NodeJS.Timeout | undefined;
  state: ProxyState = 'stopped';
  /** Output of the current process (last 8 KiB), for reports. */
  output = '';
  restarts = 0;

  constructor(private readonly opts: SupervisedOptions) {
    this.delay = opts.restartDelayMs ?? 200;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private setState(state: ProxyState, detail: string): void {
    this.state = state;
    this.opts.onState?.(state, detail);
  }

  /** Starts the process and waits until it serves; a failure leaves it restarting. */
  async start(): Promise<void> {
    this.stopping = false;
    await this.launch();
  }

  private launch(): Promise<void> {
    const argv = this.opts.netns ? ['ip', 'netns', 'exec', this.opts.netns, ...this.opts.argv] : this.opts.argv;
    this.setState('starting', '');
    this.output = '';
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keeper = (): ((d: Buffer) => void) => {
      let partial = '';
      return (d) => {
        const text = d.toString();
        this.output = (this.output + text).slice(-8192);
        if (!this.opts.onLine) return;
        const lines = (partial + text).split('\n');
        partial = lines.pop()!;
        for (const line of lines) this.opts.onLine(line);
      };
    };
    child.stdout!.on('data', keeper());
    child.stderr!.on('data', keeper());
    const exited = new Promise<string>((resolve) => {
      child.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ENOENT' ? `\`${argv[0]}\` not found (Debian package ${this.opts.debianPackage})` : e.message));
      child.once('exit', (code, signal) => {
        // `ip netns exec` exits 255 when the command itself is missing.
        const missing = /No such file or directory|exec of .* failed/.test(this.output);
        resolve(missing ? `\`${this.opts.argv[0]}\` not found (Debian package ${this.opts.debianPackage})` : `exited (${signal ?? `code ${code}`}): ${this.output.trim().split('\n').slice(-3).join(' | ')}`);
      });
    });
    void exited.then((reason) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (this.stopping) return this.setState('stopped', reason);
      this.setState('down', reason);
      this.timer = setTimeout(() => {
        this.restarts++;
        this.launch().catch(() => {});
      }, this.delay);
      this.delay = Math.min(this.delay * 2, 5000);
    });
    return Promise.race([
      this.opts.ready(child).then(() => {
        if (this.child !== child) throw new Error(`${this.opts.name} exited while starting: ${this.output.trim()}`);
        this.delay = this.opts.restartDelayMs ?? 200;
        this.setState('up', '');
      }),
      exited.then((reason) => {
        throw new Error(`${this.opts.name} ${reason}`);
      }),
    ]);
  }

  /** Sends a signal to the process (e.g. SIGKILL to test crash handling). */
  signal(sig: NodeJS.Signals): void {
    this.child?.kill(sig);
  }

  /** Stops the process (SIGTERM, then SIGKILL after 3 s) and any pending restart. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return this.setState('stopped', '');
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
