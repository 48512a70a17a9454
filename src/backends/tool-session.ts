/**
 * Edge module: one long-lived batch process of a host tool (`nft -i`, `tc -force -batch -`,
 * `ip -force -batch -`) that runs transactions written to its stdin, one after another.
 * Starting a process costs several ms on a busy node, more than the kernel work of a pod
 * update; a session pays it once. After each transaction the session writes a command that
 * always fails and names a unique token: that error on stderr marks the end of the
 * transaction's own errors. Commands that print (dumps with `-j`, one line each) are counted:
 * the transaction ends once the marker is in and every command that did not fail has printed
 * its line (stdout and stderr are separate pipes, so either may arrive first).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface SessionDialect {
  argv: readonly string[];
  /** The input of one transaction: its commands, then the end marker naming `token`. */
  input(commands: readonly string[], token: string): string;
  /** Where the marker's error starts in `stderr` once that error is complete; -1 until then. */
  markerAt(stderr: string, token: string): number;
  /** How many of a transaction's commands failed, from its own stderr (warnings are not failures). */
  failures(own: string): number;
}

export interface SessionResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

export class ToolSession {
  private child: ChildProcessWithoutNullStreams | undefined;
  private stderr = '';
  private stdout = '';
  private sequence = 0;
  private waiting: { token: string; printing: number; done: (r: SessionResult) => void; timer: NodeJS.Timeout } | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dialect: SessionDialect,
    /** A transaction that takes longer ends the process (and fails); the next one starts a new one. */
    private readonly timeoutMs = 60_000,
  ) {}

  private start(): ChildProcessWithoutNullStreams {
    const [command, ...args] = this.dialect.argv;
    const child = spawn(command!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.stderr = '';
    this.stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      this.settle();
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      this.settle();
    });
    const gone = (why: string): void => {
      if (this.child !== child) return;
      this.child = undefined;
      this.finish({ ok: false, stdout: '', stderr: `${command} session ended: ${why}`, exitCode: null });
    };
    child.on('error', (e) => gone(e.message));
    child.on('close', (code, signal) => gone(signal ? `signal ${signal}` : `exit code ${code}`));
    child.stdin.on('error', () => undefined); // reported through 'close'
    this.child = child;
    return child;
  }

  /**
   * An idle session must not keep its owner's process alive (a one-shot run ends when its
   * work does); one with a transaction in flight must, or the process could exit mid-wait.
   */
  private keepAlive(child: ChildProcessWithoutNullStreams, busy: boolean): void {
    for (const handle of [child, child.stdin, child.stdout, child.stderr] as unknown as { ref(): void; unref(): void }[]) {
      if (busy) handle.ref();
      else handle.unref();
    }
  }

  private finish(result: SessionResult): void {
    const w = this.waiting;
    if (!w) return;
    clearTimeout(w.timer);
    this.waiting = undefined;
    this.stderr = '';
    this.stdout = '';
    if (this.child) this.keepAlive(this.child, false);
    w.done(result);
  }

  /** Resolves the transaction in flight once its end marker's error is complete. */
  private settle(): void {
    const w = this.waiting;
    if (!w) return;
    const at = this.dialect.markerAt(this.stderr, w.token);
    if (at < 0) return;
    const own = this.stderr.slice(0, at);
    const failures = this.dialect.failures(own);
    const lines = w.printing - failures;
    if (lines > 0 && this.stdout.split('\n').length - 1 < lines) return;
    const failed = failures > 0;
    this.finish({ ok: !failed, stdout: this.stdout, stderr: own, exitCode: failed ? 1 : 0 });
  }

  /**
   * Runs `commands` as one transaction, after those already queued. `printing`: how many of
   * them print one line each on stdout when they succeed (the rest print nothing).
   */
  run(commands: readonly string[], printing = 0): Promise<SessionResult> {
    const next = this.queue.then(
      () =>
        new Promise<SessionResult>((done) => {
          const child = this.child ?? this.start();
          const token = `ni_end_${++this.sequence}`;
          const timer = setTimeout(() => child.kill('SIGKILL'), this.timeoutMs);
          this.waiting = { token, printing, done, timer };
          this.keepAlive(child, true);
          child.stdin.write(this.dialect.input(commands, token));
        }),
    );
    this.queue = next;
    return next;
  }

  close(): void {
    this.child?.stdin.end();
    this.child = undefined;
  }
}

/**
 * `tc -force -batch -` or `ip -force -batch -` (in a network namespace with `-n`): one command
 * per line; a failing one prints its error and `Command failed -:N` and the rest go on. The
 * marker shows a device whose name cannot exist (no `/` in interface names).
 */
export function iproute2Dialect(tool: 'ip' | 'tc', netns?: string, options: readonly string[] = []): SessionDialect {
  const show = tool === 'tc' ? 'qdisc show dev' : 'link show dev';
  return {
    argv: [tool, ...(netns ? ['-n', netns] : []), ...options, '-force', '-batch', '-'],
    input: (commands, token) => `${[...commands, `${show} ni/${token}`].join('\n')}\n`,
    markerAt(stderr, token) {
      const at = stderr.indexOf(`"ni/${token}"`);
      if (at < 0 || !/^[^\n]*\nCommand failed -:\d+\n/.test(stderr.slice(at))) return -1;
      return stderr.lastIndexOf('\n', at) + 1;
    },
    failures: (own) => own.match(/^Command failed /gm)?.length ?? 0,
  };
}
