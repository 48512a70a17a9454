/**
 * CLI frame: exit codes per ARCHITECTURE.md (0 ok, 1 intent/input errors, 2 usage,
 * 3 changes found for `diff`). Each command lives in `commands/` and registers itself.
 */
import { Command, CommanderError } from 'commander';

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
  const program = new Command('netintent')
    .description('Network intents for Kubernetes: compile, check, enforce.')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();
  for (const register of modules) register(program, io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (e) {
    if (e instanceof ExitError) return e.exitCode;
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? EXIT_OK : EXIT_USAGE;
    }
    throw e;
  }
}
