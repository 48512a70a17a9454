import type { CommandModule } from '../program.js';

/** Every CLI command, in help order. */
export const commandModules: CommandModule[] = [];
