import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { diag, hasErrors, sortDiagnostics } from '../../diagnostics/diagnostic.js';
import type { DiagnosticFormat } from '../../diagnostics/render.js';
import { loadInventory, type Inventory } from '../../inventory/index.js';
import { compileFiles } from '../../sources/index.js';
import { EXIT_INPUT, EXIT_USAGE, ExitError, type CliIo } from '../program.js';
import { formatOption, reportDiagnostics } from '../report.js';
import { targets } from '../targets.js';

interface CompileOptions {
  inventory?: string;
  target: string;
  node?: string;
  out?: string;
  format: DiagnosticFormat;
}

/** Reads and loads an inventory file; diagnostics go to the caller. */
export function readInventoryFile(io: CliIo, path: string): ReturnType<typeof loadInventory> {
  let text: string;
  try {
    text = readFileSync(resolve(io.cwd, path), 'utf8');
  } catch (e) {
    return { inventory: { namespaces: [], pods: [], nodes: [], services: [] }, diagnostics: [diag('NI9001', undefined, [path, (e as Error).message])] };
  }
  return loadInventory(path, text);
}

export function registerCompile(program: Command, io: CliIo): void {
  program
    .command('compile')
    .description('compile intents to a target: ir (default), ' + targets.filter((t) => t.name !== 'ir').map((t) => t.name).join(', '))
    .argument('<paths...>', 'intent files (.intent, .yaml) or directories')
    .option('--target <target>', 'output target', 'ir')
    .option('--inventory <file>', 'cluster inventory (kubectl get namespaces,pods,nodes,services -A -o yaml)')
    .option('--node <name>', 'render for this node only (node targets)')
    .option('--out <dir>', 'write a stable tree of files under DIR instead of stdout')
    .addOption(formatOption())
    .action((paths: string[], opts: CompileOptions) => {
      const target = targets.find((t) => t.name === opts.target);
      if (!target) {
        reportDiagnostics(io, [diag('NI5002', undefined, [opts.target, targets.map((t) => t.name).join(', ')])], opts.format);
        throw new ExitError(EXIT_USAGE);
      }
      if (target.needsInventory && !opts.inventory) {
        reportDiagnostics(io, [diag('NI9003', undefined, [`--target ${target.name} needs --inventory FILE`])], opts.format);
        throw new ExitError(EXIT_USAGE);
      }
      const result = compileFiles(paths, io.cwd);
      let diagnostics = result.diagnostics;
      let inventory: Inventory | undefined;
      if (opts.inventory) {
        const inv = readInventoryFile(io, opts.inventory);
        inventory = inv.inventory;
        diagnostics = [...diagnostics, ...inv.diagnostics];
      }
      if (!result.ir || hasErrors(diagnostics)) {
        reportDiagnostics(io, sortDiagnostics(diagnostics), opts.format);
        throw new ExitError(EXIT_INPUT);
      }
      const rendered = target.render({ ir: result.ir, ...(inventory ? { inventory } : {}), ...(opts.node ? { node: opts.node } : {}) });
      diagnostics = sortDiagnostics([...diagnostics, ...rendered.diagnostics]);
      if (diagnostics.length) reportDiagnostics(io, diagnostics, opts.format);
      if (hasErrors(diagnostics)) throw new ExitError(EXIT_INPUT);
      const files = [...rendered.files].sort((a, b) => (a.path < b.path ? -1 : 1));
      if (opts.out) {
        for (const f of files) {
          const full = join(resolve(io.cwd, opts.out), f.path);
          mkdirSync(dirname(full), { recursive: true });
          writeFileSync(full, f.text);
        }
      } else if (files.length === 1) io.stdout(files[0]!.text);
      else for (const f of files) io.stdout(`# ${f.path}\n${f.text}`);
    });
}
