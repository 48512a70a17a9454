/**
 * CLI frame: exit codes per ARCHITECTURE.md (0 ok, 1 intent/input errors, 2 usage,
 * 3 changes found for `diff`). Each command lives in `commands/` and registers itself.
 */
import { Command, CommanderError } from 'commander';
import { diag } from '../diagnostics/diagnostic.js';
import { DIAGNOSTIC_FORMATS, type DiagnosticFormat } from '../diagnostics/render.js';
import { reportDiagnostics } from './report.js';

export const EXIT_OK = 0;
export const EXIT_INPUT = 1;
export const EXIT_USAGE = 2;
export const EXIT_CHANGES = 3;

/** Thrown by commands to stop with an exit code after printing what they had to say. */
export class ExitError extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stdout is a terminal (colour only then). */
  isTty: boolean;
  cwd: string;
}

export type CommandModule = (program: Command, io: CliIo) => void;

export async function runCli(argv: string[], io: CliIo, modules: CommandModule[]): Promise<number> {
  // Machine formats get usage and internal errors as diagnostics too, so tools can parse them.
  const formatIndex = argv.indexOf('--format');
  const requested = formatIndex >= 0 ? argv[formatIndex + 1] : argv.find((a) => a.startsWith('--format='))?.slice('--format='.length);
  const format = DIAGNOSTIC_FORMATS.includes(requested as DiagnosticFormat) && requested !== 'human' ? (requested as DiagnosticFormat) : undefined;
  const program = new Command('netintent')
    .description('Network intents for Kubernetes: compile, check, enforce.')
    .exitOverride()
    .configureOutput({
      writeOut: io.stdout,
      writeErr: format ? () => undefined : io.stderr,
      outputError: (text, write) => (format ? reportDiagnostics(io, [diag('NI9003', undefined, [text.trim().replace(/^error: /, '').replace(/\.$/, '')])], format) : write(text)),
    })
    .showHelpAfterError(!format);
  for (const register of modules) register(program, io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (e) {
    if (e instanceof ExitError) return e.exitCode;
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? EXIT_OK : EXIT_USAGE;
    }
    // A bug must still end in a diagnostic, never in a bare stack trace.
    reportDiagnostics(io, [diag('NI9004', undefined, [e instanceof Error ? (e.stack ?? e.message) : String(e)])], format ?? 'human');
    return EXIT_INPUT;
  }
}
