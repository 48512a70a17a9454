import type { CommandModule } from '../program.js';
import { registerIpam } from './ipam.js';

/** Every CLI command, in help order. */
export const commandModules: CommandModule[] = [registerIpam];
