/**
 * Edge module: hands a rendered script to `nft -f -` (stdin). `nft -f` runs the whole
 * file as one transaction, so a failing script leaves the previous ruleset in force.
 */
import { spawn } from 'node:child_process';

export interface NftRunResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

export interface NftRunOptions {
  /** Run inside this network namespace (`ip netns exec NAME nft …`). */
  netns?: string;
  /** Extra nft arguments placed before `-f -` (e.g. `-c` to check only). */
  args?: string[];
}

function run(argv: string[], input: string | undefined): Promise<NftRunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ ok: exitCode === 0, stdout, stderr, exitCode }));
    child.stdin.end(input ?? '');
  });
}

function nftArgv(opts: NftRunOptions, rest: string[]): string[] {
  return [...(opts.netns ? ['ip', 'netns', 'exec', opts.netns] : []), 'nft', ...(opts.args ?? []), ...rest];
}

/** Applies (or with `args: ['-c']` checks) a script atomically. */
export function applyNftScript(script: string, opts: NftRunOptions = {}): Promise<NftRunResult> {
  return run(nftArgv(opts, ['-f', '-']), script);
}

/** `nft list table inet netintent` (for idempotence checks and debugging). */
export function listNftTable(opts: NftRunOptions = {}): Promise<NftRunResult> {
  return run(nftArgv(opts, ['list', 'table', 'inet', 'netintent']), undefined);
}
