import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { hasErrors, sortDiagnostics } from '../../diagnostics/diagnostic.js';
import type { CheckResult } from '../../check/index.js';
import { compileTexts, readInputs } from '../../sources/index.js';
import { diffIntents, hasChanges, parseRevisionSpec, readRevisionInputs, renderDiffJson, renderDiffMarkdown } from '../../review/index.js';
import { EXIT_CHANGES, EXIT_INPUT, ExitError, type CliIo } from '../program.js';
import { reportDiagnostics } from '../report.js';
import { readInventoryFile } from './compile.js';

/** Compiles one side: files/directories, or `git:REV:PATH`. */
export function compileSide(io: CliIo, arg: string): CheckResult {
  const spec = parseRevisionSpec(arg);
  if (spec) {
    const read = readRevisionInputs(spec, io.cwd);
    if (hasErrors(read.diagnostics)) return { diagnostics: read.diagnostics };
    return compileTexts(read.inputs, read.readFile);
  }
  const read = readInputs([arg], io.cwd);
  if (hasErrors(read.diagnostics)) return { diagnostics: read.diagnostics };
  const result = compileTexts(read.inputs, (p) => readFileSync(resolve(io.cwd, p), 'utf8'));
  return { ...result, diagnostics: sortDiagnostics([...read.diagnostics, ...result.diagnostics]) };
}

export function registerDiff(program: Command, io: CliIo): void {
  program
    .command('diff')
    .description('what changes between two versions of the intents (connectivity, rules, IP plan, rates), for pull-request review; exit 3 when something changed')
    .argument('<base>', 'intent files/directory, or git:REV:PATH')
    .argument('<head>', 'intent files/directory, or git:REV:PATH')
    .option('--inventory <file>', 'cluster inventory: connectivity at pod level instead of group level')
    .addOption(new Option('--format <format>', 'output format').choices(['markdown', 'json']).default('markdown'))
    .action((baseArg: string, headArg: string, opts: { inventory?: string; format: 'markdown' | 'json' }) => {
      const base = compileSide(io, baseArg);
      const head = compileSide(io, headArg);
      const inv = opts.inventory ? readInventoryFile(io, opts.inventory) : undefined;
      const failed = [...(base.ir ? [] : base.diagnostics), ...(head.ir ? [] : head.diagnostics), ...(inv?.diagnostics ?? [])];
      if (hasErrors(failed)) {
        // Like every command: machine output gets the diagnostics as JSON, people get code frames.
        reportDiagnostics(io, sortDiagnostics(failed), opts.format === 'json' ? 'json' : 'human');
        throw new ExitError(EXIT_INPUT);
      }
      const report = diffIntents(base, head, inv?.inventory);
      const fullCommand = `netintent diff ${[baseArg, headArg, ...(opts.inventory ? ['--inventory', opts.inventory] : [])].join(' ')} --format json`;
      io.stdout(opts.format === 'json' ? renderDiffJson(report) : renderDiffMarkdown(report, { fullCommand }));
      if (hasChanges(report)) throw new ExitError(EXIT_CHANGES);
    });
}
