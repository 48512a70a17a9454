/** Scenario-like intent versions for the review tests: the shop fixture and one edit each. */
import { readFileSync } from 'node:fs';
import type { CheckResult } from '../../src/check/index.js';
import type { Inventory } from '../../src/inventory/index.js';
import { compileTexts, type InputText } from '../../src/sources/index.js';
import { pod } from '../fixtures/ir.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

export function baseTexts(): InputText[] {
  return [{ path: 'intents/shop.intent', text: fixture('shop.intent') }];
}

const replace = (from: string, to: string) => (files: InputText[]): InputText[] =>
  files.map((f) => {
    if (!f.text.includes(from)) return f;
    return { ...f, text: f.text.replace(from, to) };
  });

/** Each edit turns the base texts into a head version. */
export const edits = {
  'add-tenant': (files: InputText[]): InputText[] => [{ path: 'intents/bank.intent', text: fixture('bank.intent') }, ...files],
  'open-port': replace('allow web -> api on tcp/8080', 'allow web -> api on tcp/8080, tcp/8443'),
  'tighten-cidr': replace('cidr 172.16.0.0/16', 'cidr 172.16.1.0/24'),
  'move-fixed-ip': replace('fixed-ip shop/legacy-0 10.1.0.5', 'fixed-ip shop/legacy-0 10.1.0.9'),
  'change-rate': replace('egress 100M', 'egress 50M'),
  /** web keeps only the pods labelled tier=front (the inventory has none). */
  'narrow-group': replace('pods app = web in namespace shop', 'pods app = web, tier = front in namespace shop'),
} as const;

export type EditName = keyof typeof edits;
export const EDIT_NAMES = Object.keys(edits) as EditName[];

export function compiled(files: InputText[]): CheckResult {
  const result = compileTexts(files);
  if (!result.ir) throw new Error(`fixture does not compile: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  return result;
}

export function headTexts(...names: EditName[]): InputText[] {
  return names.reduce((files, n) => edits[n](files), baseTexts());
}

/** Pods for the shop and bank tenants, several per class. */
export function shopInventory(): Inventory {
  const pods = [];
  let n = 1;
  for (const [ns, app, count] of [['shop', 'web', 3], ['shop', 'api', 2], ['shop', 'db', 1], ['bank', 'ledger', 2]] as const) {
    for (let i = 0; i < count; i++) pods.push(pod({ ns, name: `${app}-${i}`, ip: `10.1.0.${10 + n++}`, labels: { app }, node: 'n1' }));
  }
  return {
    namespaces: ['bank', 'shop'].map((name) => ({ name, labels: { 'kubernetes.io/metadata.name': name } })),
    pods,
    nodes: [{ name: 'n1', labels: {}, addresses: ['10.0.0.1'], podCidrs: [] }],
    services: [],
  };
}
