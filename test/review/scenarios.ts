/** Scenario-like intents as hand-built IR pairs (BASE, HEAD) for the review tests. */
import type { Ir, IrRule } from '../../src/ir/types.js';
import type { Inventory } from '../../src/inventory/index.js';
import { emptyIr, group, isolationRules, pod, podsIn, rule, tcp, tenant } from '../fixtures/ir.js';

const at = (file: string, line: number) => [{ file, line, col: 3, endLine: line, endCol: 40 }];

/** Shop tenant: web, api, db; the office reaches web on 443; the baseline closes api and db. */
export function shopBase(): Ir {
  const ir = emptyIr();
  const t = tenant('shop', ['shop'], 'default');
  const iso = isolationRules(t);
  ir.tenants = [t];
  ir.groups = [
    group('api', [podsIn(['shop'], { app: 'api' })]),
    group('db', [podsIn(['shop'], { app: 'db' })]),
    group('office', [{ kind: 'cidr', cidr: '172.16.0.0/16', except: [] }]),
    group('web', [podsIn(['shop'], { app: 'web' })]),
    ...iso.groups,
  ].sort((a, b) => (a.id < b.id ? -1 : 1));
  const rules: IrRule[] = [
    rule({ policy: 'shop-app', index: 0, action: 'allow', from: ['group:web'], to: ['group:api'], ports: [tcp(8080)] }),
    rule({ policy: 'shop-app', index: 1, action: 'allow', from: ['group:api'], to: ['group:db'], ports: [tcp(5432)] }),
    rule({ policy: 'shop-app', index: 2, action: 'allow', from: ['group:office'], to: ['group:web'], ports: [tcp(443)] }),
    rule({ policy: 'shop-baseline', index: 0, tier: 'baseline', action: 'deny', from: ['group:any'], to: ['group:api', 'group:db', 'group:web'] }),
    ...iso.rules,
  ];
  ir.rules = rules;
  ir.pools = [{ id: 'pool:shop', name: 'shop', family: 4, ranges: [{ first: '10.1.0.0', last: '10.1.0.255' }], reserved: [], tenant: 'shop', size: 256 }];
  ir.fixedIps = [{ id: 'fixed:shop/legacy-0', namespace: 'shop', pod: 'legacy-0', ips: ['10.1.0.5'], tenant: 'shop' }];
  ir.rateLimits = [{ id: 'rate:shop-web', name: 'shop-web', pods: ['group:web'], egressBps: 100_000_000 }];
  ir.sources = {
    'tenant:shop': at('intents/shop.intent', 1),
    'group:web': at('intents/shop.intent', 6),
    'group:office': at('intents/shop.intent', 12),
    'rule:shop-app/0': at('intents/shop.intent', 20),
    'rule:shop-app/1': at('intents/shop.intent', 21),
    'rule:shop-app/2': at('intents/shop.intent', 22),
    'rule:shop-baseline/0': at('intents/shop.intent', 26),
    'fixed:shop/legacy-0': at('intents/shop.intent', 30),
    'pool:shop': at('intents/shop.intent', 3),
    'rate:shop-web': at('intents/shop.intent', 32),
  };
  return ir;
}

type Edit = (ir: Ir) => void;

export const edits: Record<string, Edit> = {
  /** A second tenant, strictly isolated, with its own app rule. */
  'add-tenant': (ir) => {
    const t = tenant('bank', ['bank'], 'strict');
    const iso = isolationRules(t);
    ir.tenants = [...ir.tenants, t].sort((a, b) => (a.id < b.id ? -1 : 1));
    ir.groups = [...ir.groups, group('ledger', [podsIn(['bank'], { app: 'ledger' })]), ...iso.groups].sort((a, b) => (a.id < b.id ? -1 : 1));
    ir.rules = [...iso.rules, ...ir.rules];
    ir.sources['tenant:bank'] = at('intents/bank.intent', 1);
    ir.sources['rule:~isolation/bank/0'] = at('intents/bank.intent', 1);
    ir.sources['rule:~isolation/bank/1'] = at('intents/bank.intent', 1);
  },
  /** web → api also on 8443. */
  'open-port': (ir) => {
    ir.rules = ir.rules.map((r) => (r.id === 'rule:shop-app/0' ? { ...r, ports: [tcp(8080), tcp(8443)] } : r));
  },
  /** The office shrinks from a /16 to one /24. */
  'tighten-cidr': (ir) => {
    ir.groups = ir.groups.map((g) => (g.id === 'group:office' ? { ...g, members: [{ kind: 'cidr', cidr: '172.16.1.0/24', except: [] }] } : g));
  },
  'move-fixed-ip': (ir) => {
    ir.fixedIps = ir.fixedIps.map((f) => ({ ...f, ips: ['10.1.0.9'] }));
  },
  'change-rate': (ir) => {
    ir.rateLimits = ir.rateLimits.map((r) => ({ ...r, egressBps: 50_000_000 }));
  },
};

export function shopHead(...names: (keyof typeof edits)[]): Ir {
  const ir = structuredClone(shopBase());
  for (const n of names) edits[n]!(ir);
  return ir;
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
