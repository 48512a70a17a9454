import type { Command } from 'commander';
import { hasErrors, sortDiagnostics } from '../../diagnostics/diagnostic.js';
import { printDsl } from '../../frontend/dsl/index.js';
import { parseYamlDocuments } from '../../frontend/yaml/index.js';
import { readInputs } from '../../sources/index.js';
import { EXIT_INPUT, ExitError, type CliIo } from '../program.js';
import { reportDiagnostics } from '../report.js';

export function registerImport(program: Command, io: CliIo): void {
  program
    .command('import')
    .description('turn Kubernetes NetworkPolicy YAML into DSL text that compiles to the same IR')
    .argument('<files...>', 'YAML files (or directories) holding NetworkPolicy objects')
    .action((files: string[]) => {
      const read = readInputs(files, io.cwd);
      const diagnostics = [...read.diagnostics];
      const decls = [];
      for (const input of read.inputs.filter((i) => !i.path.endsWith('.intent'))) {
        const parsed = parseYamlDocuments(input.path, input.text);
        diagnostics.push(...parsed.diagnostics);
        for (const s of parsed.sources) if (s.format === 'netpol') decls.push(...s.decls);
      }
      if (hasErrors(diagnostics)) {
        reportDiagnostics(io, sortDiagnostics(diagnostics));
        throw new ExitError(EXIT_INPUT);
      }
      if (diagnostics.length) reportDiagnostics(io, sortDiagnostics(diagnostics));
      io.stdout(printDsl(decls));
    });
}
