/**
 * Compile targets: each renders the IR (plus inventory/node where it needs them) into
 * output files with stable relative paths. Targets render; they never apply.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { canonicalJson } from '../ir/canonical.js';
import type { Ir } from '../ir/types.js';
import type { Inventory } from '../inventory/index.js';

export interface TargetInput {
  ir: Ir;
  inventory?: Inventory;
  node?: string;
}

export interface OutputFile {
  path: string;
  text: string;
}

export interface Target {
  name: string;
  description: string;
  needsInventory: boolean;
  render(input: TargetInput): { files: OutputFile[]; diagnostics: Diagnostic[] };
}

export const targets: Target[] = [
  {
    name: 'ir',
    description: 'canonical IR JSON (schemas/ir.schema.json)',
    needsInventory: false,
    render: ({ ir }) => ({ files: [{ path: 'ir.json', text: `${canonicalJson(ir, true)}\n` }], diagnostics: [] }),
  },
];
