import type { CommandModule } from '../program.js';
import { registerAdmit, registerWebhook } from './webhook.js';

/** Every CLI command, in help order. */
export const commandModules: CommandModule[] = [registerAdmit, registerWebhook];
