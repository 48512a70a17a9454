/**
 * Compile targets: each renders the IR (plus inventory/node where it needs them) into
 * output files with stable relative paths. Targets render; they never apply.
 */
import { renderIpamPlan } from '../backends/ipam/index.js';
import { renderNodeRuleset } from '../backends/nftables/index.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
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

/** Renders a per-node target for `--node N`, or for every node of the inventory. */
function perNode(input: TargetInput, dir: string, ext: string, render: (node: string) => { text: string; diagnostics: Diagnostic[] }): { files: OutputFile[]; diagnostics: Diagnostic[] } {
  const nodes = input.inventory!.nodes.map((n) => n.name);
  if (input.node && !nodes.includes(input.node)) return { files: [], diagnostics: [diag('NI6003', undefined, [input.node, nodes.join(', ') || '(none)'])] };
  const files: OutputFile[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const node of input.node ? [input.node] : nodes) {
    const out = render(node);
    files.push({ path: `${dir}/${node}.${ext}`, text: out.text });
    diagnostics.push(...out.diagnostics);
  }
  return { files, diagnostics };
}

targets.push({
  name: 'nftables',
  description: 'one atomic `nft -f` script per node (needs --inventory; --node N for one node)',
  needsInventory: true,
  render: (input) =>
    perNode(input, 'nftables', 'nft', (node) => {
      const r = renderNodeRuleset(input.ir, input.inventory!, node);
      return { text: r.script, diagnostics: r.diagnostics };
    }),
});

targets.push({
  name: 'ipam',
  description: 'the IPAM plan the netintent-ipam CNI plugin reads (pools, fixed IPs, tenants)',
  needsInventory: false,
  render: ({ ir }) => ({ files: [{ path: 'ipam-plan.json', text: `${canonicalJson(renderIpamPlan(ir), true)}\n` }], diagnostics: [] }),
});
