import { runCli } from '../../src/cli/program.js';
import { commandModules } from '../../src/cli/commands/index.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured output, as `netintent ARGS` in `cwd`. */
export async function netintent(args: string[], cwd: string): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isTty: false, cwd }, commandModules);
  return { code, stdout, stderr };
}
