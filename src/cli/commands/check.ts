import type { Command } from 'commander';
import { hasErrors } from '../../diagnostics/diagnostic.js';
import type { DiagnosticFormat } from '../../diagnostics/render.js';
import { compileFiles } from '../../sources/index.js';
import { EXIT_INPUT, ExitError, type CliIo } from '../program.js';
import { formatOption, reportDiagnostics } from '../report.js';

export function registerCheck(program: Command, io: CliIo): void {
  program
    .command('check')
    .description('parse and validate intents; print all diagnostics in source order')
    .argument('<paths...>', 'intent files (.intent, .yaml) or directories')
    .addOption(formatOption())
    .action((paths: string[], opts: { format: DiagnosticFormat }) => {
      const result = compileFiles(paths, io.cwd);
      if (result.diagnostics.length || opts.format !== 'human') reportDiagnostics(io, result.diagnostics, opts.format);
      if (hasErrors(result.diagnostics)) throw new ExitError(EXIT_INPUT);
    });
}
