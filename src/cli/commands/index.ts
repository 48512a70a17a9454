import type { CommandModule } from '../program.js';
import { registerCheck } from './check.js';
import { registerCompile } from './compile.js';
import { registerDiff } from './diff.js';
import { registerExplain, registerMatrix } from './explain.js';
import { registerFmt } from './fmt.js';
import { registerImport } from './import.js';
import { registerIpam } from './ipam.js';
import { registerNode } from './node.js';
import { registerReport } from './report.js';
import { registerAdmit, registerWebhook } from './webhook.js';

/** Every CLI command, in help order. */
export const commandModules: CommandModule[] = [
  registerCheck,
  registerFmt,
  registerCompile,
  registerImport,
  registerExplain,
  registerMatrix,
  registerDiff,
  registerReport,
  registerAdmit,
  registerWebhook,
  registerNode,
  registerIpam,
];
