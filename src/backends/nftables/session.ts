/**
 * Edge module: one long-lived `nft -i` process for element transactions (pod churn).
 * Every `nft -f` opens and closes a netlink socket, and closing it after a delete waits
 * for the kernel (about 15 ms on the development VMs, spent in `close()`), which alone is
 * most of the 20 ms budget of a pod update; one session pays that once. A transaction is
 * one input line of `;`-separated commands, which nft runs as one batch: as atomic as
 * `nft -f`. After it the session sends a command that always fails and carries a unique
 * token; that error on stderr marks the end of the transaction's own output.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { NftRunOptions, NftRunResult } from './apply.js';

/** A line the session can carry: one element command (`add|delete element … { … }`). */
const ELEMENT_COMMAND = /^(?:add|delete) element [^\n{}]+\{[^\n{}]*\}$/;

export class NftSession {
  private child: ChildProcessWithoutNullStreams | undefined;
  private stderr = '';
  private sequence = 0;
  private waiting: { token: string; done: (r: NftRunResult) => void } | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: Pick<NftRunOptions, 'netns'> = {}) {}

  /** Whether `script` is only element commands (comments and blank lines aside). */
  static carries(script: string): boolean {
    const commands = script.split('\n').filter((l) => l.trim() && !l.trimStart().startsWith('#'));
    return commands.length > 0 && commands.every((l) => ELEMENT_COMMAND.test(l.trim()));
  }

  private start(): ChildProcessWithoutNullStreams {
    const argv = [...(this.opts.netns ? ['ip', 'netns', 'exec', this.opts.netns] : []), 'nft', '-i'];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.stderr = '';
    child.stdout.resume(); // element commands print nothing; keep the pipe drained anyway
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      this.settle();
    });
    const gone = (why: string): void => {
      if (this.child !== child) return;
      this.child = undefined;
      const w = this.waiting;
      this.waiting = undefined;
      w?.done({ ok: false, stdout: '', stderr: `nft session ended: ${why}`, exitCode: null });
    };
    child.on('error', (e) => gone(e.message));
    child.on('close', (code) => gone(`exit code ${code}`));
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

  /** Resolves the transaction in flight once its end marker's error is complete. */
  private settle(): void {
    const w = this.waiting;
    if (!w) return;
    const at = this.stderr.indexOf(w.token);
    // The marker's error ends with its caret line.
    if (at < 0 || !/\^+\s*\n/.test(this.stderr.slice(at))) return;
    const markerError = this.stderr.lastIndexOf('Error:', at);
    const own = this.stderr.slice(0, markerError < 0 ? 0 : markerError);
    this.stderr = '';
    this.waiting = undefined;
    if (this.child) this.keepAlive(this.child, false);
    w.done({ ok: !/Error:/.test(own), stdout: '', stderr: own, exitCode: /Error:/.test(own) ? 1 : 0 });
  }

  /** Runs an element-only script (see `carries`) as one transaction. */
  run(script: string): Promise<NftRunResult> {
    const next = this.queue.then(
      () =>
        new Promise<NftRunResult>((done) => {
          const child = this.child ?? this.start();
          const token = `ni_end_${++this.sequence}`;
          const commands = script.split('\n').filter((l) => l.trim() && !l.trimStart().startsWith('#')).map((l) => l.trim());
          this.waiting = { token, done };
          this.keepAlive(child, true);
          child.stdin.write(`${commands.join('; ')}\nlist table inet ${token}\n`);
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
