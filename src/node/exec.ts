/**
 * Edge helper: runs a host tool (ip, tc, arping) optionally inside a network namespace,
 * with stdin and a bounded timeout. Never throws for a failing command: callers decide.
 */
import { spawn } from 'node:child_process';

export interface RunResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

export interface HostOptions {
  /** Act inside this network namespace (`ip netns exec NAME …`); absent: the agent's own. */
  netns?: string;
}

const NETNS_AWARE = new Set(['ip', 'tc', 'bridge']);

export function runTool(argv: readonly string[], opts: HostOptions & { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  // ip, tc and bridge switch namespaces themselves (`-n`), cheaper than `ip netns exec`.
  const full = !opts.netns ? [...argv] : NETNS_AWARE.has(argv[0]!) ? [argv[0]!, '-n', opts.netns, ...argv.slice(1)] : ['ip', 'netns', 'exec', opts.netns, ...argv];
  return new Promise((resolve) => {
    const child = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, stdout, stderr: stderr + e.message, exitCode: null });
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ ok: exitCode === 0, stdout, stderr, exitCode });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}
