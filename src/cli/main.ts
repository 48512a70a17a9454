#!/usr/bin/env node
import { runCli } from './program.js';
import { commandModules } from './commands/index.js';

const code = await runCli(
  process.argv.slice(2),
  {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    isTty: process.stdout.isTTY === true,
    cwd: process.cwd(),
  },
  commandModules,
);
process.exitCode = code;
