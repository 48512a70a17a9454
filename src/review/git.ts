/**
 * Edge: intent files of a git revision (`git:REV:PATH`), read with `git ls-tree` and
 * `git show` so that the work tree is never touched. Paths come back relative to `cwd`,
 * like the paths of a directory argument, so both sides of a diff name files alike.
 */
import { execFileSync } from 'node:child_process';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { isIntentFile, type InputText } from '../sources/index.js';

export interface RevisionSpec {
  rev: string;
  path: string;
}

/** `git:REV:PATH` → its parts (PATH may be empty: the whole tree); anything else → undefined. */
export function parseRevisionSpec(arg: string): RevisionSpec | undefined {
  const m = /^git:([^:]+):(.*)$/.exec(arg);
  return m ? { rev: m[1]!, path: m[2]! || '.' } : undefined;
}

const git = (cwd: string, args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });

/** Reads the intent files under PATH at REV; `readFile` serves DSL includes from the same revision. */
export function readRevisionInputs(spec: RevisionSpec, cwd: string): { inputs: InputText[]; diagnostics: Diagnostic[]; readFile: (path: string) => string } {
  const readFile = (path: string): string => git(cwd, ['show', `${spec.rev}:./${path}`]);
  let listing: string;
  try {
    listing = git(cwd, ['ls-tree', '-r', '--name-only', spec.rev, '--', spec.path]);
  } catch (e) {
    const stderr = String((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split('\n')[0];
    return { inputs: [], diagnostics: [diag('NI9001', undefined, [`git:${spec.rev}:${spec.path}`, stderr ?? 'git failed'])], readFile };
  }
  const files = listing
    .split('\n')
    .filter((f) => f && isIntentFile(f) && !f.split('/').some((part) => part.startsWith('.')))
    .sort();
  if (!files.length) return { inputs: [], diagnostics: [diag('NI9002', undefined, [`git:${spec.rev}:${spec.path}`])], readFile };
  return { inputs: files.map((path) => ({ path, text: readFile(path) })), diagnostics: [], readFile };
}
