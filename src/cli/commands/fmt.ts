import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { diag, hasErrors, type Diagnostic } from '../../diagnostics/diagnostic.js';
import { formatDsl } from '../../frontend/dsl/index.js';
import { findIntentFiles } from '../../sources/index.js';
import { EXIT_INPUT, EXIT_USAGE, ExitError, type CliIo } from '../program.js';
import { reportDiagnostics } from '../report.js';

export function registerFmt(program: Command, io: CliIo): void {
  program
    .command('fmt')
    .description('format DSL files canonically (prints to stdout unless --check or --write)')
    .argument('<paths...>', '.intent files or directories')
    .option('--check', 'exit 1 and list the files that are not formatted')
    .option('--write', 'rewrite files in place')
    .action((paths: string[], opts: { check?: boolean; write?: boolean }) => {
      if (opts.check && opts.write) {
        reportDiagnostics(io, [diag('NI9003', undefined, ['--check and --write exclude each other'])]);
        throw new ExitError(EXIT_USAGE);
      }
      const found = findIntentFiles(paths, io.cwd);
      const diagnostics: Diagnostic[] = [...found.diagnostics];
      for (const file of found.files.filter((f) => f.endsWith('.intent'))) {
        const full = resolve(io.cwd, file);
        const text = readFileSync(full, 'utf8');
        const formatted = formatDsl(file, text);
        diagnostics.push(...formatted.diagnostics);
        if (hasErrors(formatted.diagnostics)) continue;
        if (opts.check) {
          if (formatted.text !== text) diagnostics.push(diag('NI9005', { file, start: { line: 1, col: 1, offset: 0 }, end: { line: 1, col: 1, offset: 0 } }));
        } else if (opts.write) {
          if (formatted.text !== text) writeFileSync(full, formatted.text);
        } else io.stdout(formatted.text);
      }
      if (diagnostics.length) reportDiagnostics(io, diagnostics);
      if (hasErrors(diagnostics)) throw new ExitError(EXIT_INPUT);
    });
}
