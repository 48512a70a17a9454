import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { hasErrors, sortDiagnostics } from '../../diagnostics/diagnostic.js';
import { buildReport, renderReportHtml } from '../../report/index.js';
import { compileFiles } from '../../sources/index.js';
import { EXIT_INPUT, ExitError, type CliIo } from '../program.js';
import { reportDiagnostics } from '../report.js';
import { readInventoryFile } from './compile.js';

export function registerReport(program: Command, io: CliIo): void {
  program
    .command('report')
    .description('write a static, self-contained HTML report (connectivity heat map, group graph, IP pools, rate limits) to DIR/index.html')
    .argument('<paths...>', 'intent files (.intent, .yaml) or directories')
    .requiredOption('--inventory <file>', 'cluster inventory (kubectl get namespaces,pods,nodes,services -A -o yaml)')
    .requiredOption('--out <dir>', 'directory for index.html')
    .action((paths: string[], opts: { inventory: string; out: string }) => {
      const result = compileFiles(paths, io.cwd);
      const inv = readInventoryFile(io, opts.inventory);
      const diagnostics = sortDiagnostics([...result.diagnostics, ...inv.diagnostics]);
      if (diagnostics.length) reportDiagnostics(io, diagnostics);
      if (!result.ir || hasErrors(diagnostics)) throw new ExitError(EXIT_INPUT);
      const dir = resolve(io.cwd, opts.out);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'index.html'), renderReportHtml(buildReport(result.ir, inv.inventory), `netintent report: ${paths.join(' ')}`));
    });
}
