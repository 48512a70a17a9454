import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/explain/index.js';
import { diffIntents, podClasses, portsOf, probeIntervals, renderDiffJson, renderDiffMarkdown, VersionModel, decide, MARKDOWN_LIMIT } from '../../src/review/index.js';
import { IR_VERSION, type Ir } from '../../src/ir/types.js';
import { loadInventory } from '../../src/inventory/index.js';
import { compileFiles } from '../../src/sources/index.js';
import { irArb } from '../fixtures/arbitrary.js';
import { e2eInventory, pod } from '../fixtures/ir.js';
import { expectGolden } from '../helpers/golden.js';
import { baseTexts, compiled, EDIT_NAMES, headTexts, shopInventory } from './scenarios.js';

const golden = (name: string): string => new URL(`./golden/${name}`, import.meta.url).pathname;

describe('diffIntents on scenario edits', () => {
  const base = compiled(baseTexts());
  for (const name of EDIT_NAMES) {
    it(`${name}: group level, golden Markdown and JSON`, () => {
      const report = diffIntents(base, compiled(headTexts(name)));
      expect(report.summary.total).toBeGreaterThan(0);
      expectGolden(golden(`${name}.md`), renderDiffMarkdown(report));
      expectGolden(golden(`${name}.json`), renderDiffJson(report));
    });
  }

  it('all edits at pod level, golden Markdown and JSON', () => {
    const report = diffIntents(base, compiled(headTexts(...EDIT_NAMES)), shopInventory());
    expect(report.level).toBe('pods');
    expectGolden(golden('all-edits.pods.md'), renderDiffMarkdown(report));
    expectGolden(golden('all-edits.pods.json'), renderDiffJson(report));
  });

  it('open-port: one line web → api tcp/8443, deny → allow, naming the rule and its line', () => {
    for (const inventory of [undefined, shopInventory()]) {
      const report = diffIntents(base, compiled(headTexts('open-port')), inventory);
      expect(report.connectivity).toHaveLength(1);
      const [c] = report.connectivity;
      expect(c).toMatchObject({ tenant: 'shop', from: { label: 'web' }, to: { label: 'api' }, port: 'tcp/8443', before: 'deny', after: 'allow' });
      expect(c!.afterBy).toEqual({ id: 'rule:shop-app/0', source: 'intents/shop.intent:25' });
      expect(c!.beforeBy.id).toBe('rule:shop-baseline/0');
      expect(c!.podPairs).toBe(inventory ? 6 : 0);
      expect(report.rules.changed.map((r) => [r.id, r.fields])).toEqual([['rule:shop-app/0', ['ports']]]);
    }
  });

  it('tighten-cidr: the office addresses outside the new /24 lose web:443', () => {
    const report = diffIntents(base, compiled(headTexts('tighten-cidr')));
    expect(report.connectivity.length).toBeGreaterThan(0);
    for (const c of report.connectivity) expect(c).toMatchObject({ to: { label: 'web' }, port: 'tcp/443', before: 'allow', after: 'deny' });
    expect(report.connectivity.map((c) => c.from.label).join(' ')).not.toContain('172.16.1.0/24');
    expect(report.groups.map((g) => [g.id, g.fields])).toEqual([['group:office', ['members']]]);
  });

  it('add-tenant, move-fixed-ip, change-rate land in their sections', () => {
    expect(diffIntents(base, compiled(headTexts('add-tenant'))).tenants.map((t) => [t.id, t.change])).toEqual([['tenant:bank', 'added']]);
    const moved = diffIntents(base, compiled(headTexts('move-fixed-ip')));
    expect(moved.fixedIps.map((f) => [f.id, f.change, f.fields])).toEqual([['fixed:shop/legacy-0', 'changed', ['ips']]]);
    expect(moved.connectivity).toEqual([]);
    const rate = diffIntents(base, compiled(headTexts('change-rate')));
    expect(rate.rateLimits.map((r) => [r.id, r.fields, r.source])).toEqual([['rate:web-limit', ['egressBps'], 'intents/shop.intent:36']]);
  });

  it('narrow-group: the pods the group no longer covers lose what it allowed (group level: its old definition; pod level: the pods)', () => {
    const head = compiled(headTexts('narrow-group'));
    const groups = diffIntents(base, head);
    expect(groups.connectivity).toContainEqual(expect.objectContaining({ from: expect.objectContaining({ label: 'web (old definition)' }), to: expect.objectContaining({ label: 'api' }), port: 'tcp/8080', before: 'allow', after: 'deny' }));
    const pods = diffIntents(base, head, shopInventory());
    expect(pods.connectivity).toContainEqual(expect.objectContaining({ from: expect.objectContaining({ label: 'web', kind: 'group' }), to: expect.objectContaining({ label: 'api' }), port: 'tcp/8080', before: 'allow', after: 'deny', podPairs: 6 }));
  });

  it('named ports: at group level every group is taken to declare them; at pod level they resolve on the pods', () => {
    const head = compiled(baseTexts().map((f) => ({ ...f, text: f.text.replace('allow web -> api on tcp/8080', 'allow web -> api on tcp/8080, tcp/metrics') })));
    const groups = diffIntents(base, head);
    expect(groups.connectivity.map((c) => [c.from.label, c.to.label, c.port, c.before, c.after])).toEqual([['web', 'api', 'tcp/metrics', 'deny', 'allow']]);
    const inventory = shopInventory();
    expect(diffIntents(base, head, inventory).connectivity).toEqual([]);
    for (const p of inventory.pods) if (p.labels.app === 'api') p.ports = [{ name: 'metrics', port: 9100, protocol: 'tcp' }];
    expect(diffIntents(base, head, inventory).connectivity.map((c) => [c.from.label, c.to.label, c.port, c.podPairs])).toEqual([['web', 'api', 'tcp/9100', 6]]);
  });

  it('the inventory order does not matter', () => {
    const inventory = shopInventory();
    const shuffled = { ...inventory, pods: [...inventory.pods].reverse(), namespaces: [...inventory.namespaces].reverse() };
    const head = compiled(headTexts(...EDIT_NAMES));
    expect(renderDiffJson(diffIntents(base, head, shuffled))).toBe(renderDiffJson(diffIntents(base, head, inventory)));
  });

  it('the same intents give no changes', () => {
    const report = diffIntents(base, compiled(baseTexts()), shopInventory());
    expect(report.summary.total).toBe(0);
    expect(renderDiffMarkdown(report)).toContain('no changes');
  });

  it('new and resolved diagnostics match by code, message and file', () => {
    const warn = { code: 'NI4001', severity: 'warning', message: 'shadowed', related: [], span: { file: 'a.intent', start: { line: 3, col: 1, offset: 0 }, end: { line: 3, col: 2, offset: 1 } } } as const;
    const moved = { ...warn, span: { ...warn.span, start: { line: 9, col: 1, offset: 0 } } };
    const other = { ...warn, message: 'other' };
    const report = diffIntents({ ir: base.ir!, diagnostics: [warn as never] }, { ir: base.ir!, diagnostics: [moved as never, other as never] });
    expect(report.diagnostics.new.map((d) => d.message)).toEqual(['other']);
    expect(report.diagnostics.resolved).toEqual([]);
  });
});

describe('Markdown size limit', () => {
  it('a huge diff stays under the limit and says how to get the full output', () => {
    const base: Ir = { ...compiled(baseTexts()).ir!, rules: [] };
    const head: Ir = structuredClone(base);
    for (let i = 0; i < 2500; i++) {
      head.rules.push({ id: `rule:generated-${String(i).padStart(4, '0')}/0`, policy: `generated-${i}`, tier: 'application', priority: 100, index: 0, action: i % 2 ? 'allow' : 'deny', from: ['group:web'], to: ['group:api'], ports: [{ protocol: 'tcp', port: 1000 + (i % 3) }], log: false, origin: 'intent' });
    }
    const report = diffIntents({ ir: base, diagnostics: [] }, { ir: head, diagnostics: [] });
    const md = renderDiffMarkdown(report, { fullCommand: 'netintent diff git:main:intents intents --format json' });
    expect(md.length).toBeLessThanOrEqual(MARKDOWN_LIMIT);
    expect(md).toContain('**Truncated**');
    expect(md).toContain('`netintent diff git:main:intents intents --format json`');
    expect(md.startsWith('## netintent diff:')).toBe(true);
    expect(md).toContain('</details>');
  });
});

describe('the narrowed evaluation equals the plain evaluator', () => {
  it('for every pod of every class, pair and probe port (random IRs over the e2e cluster)', () => {
    const inventory = e2eInventory();
    // Twins: same namespace and labels as x/a and y/b, other addresses (inside and outside CIDR cells).
    inventory.pods.push(
      { ...pod({ ns: 'x', name: 'a2', ip: '10.123.1.9', labels: { pod: 'a' }, node: 'n1' }), ports: inventory.pods[0]!.ports },
      { ...pod({ ns: 'y', name: 'b2', ip: '10.123.2.77', labels: { pod: 'b' }, node: 'n2' }), ports: inventory.pods[4]!.ports },
    );
    fc.assert(
      fc.property(irArb, (generated) => {
        const ir: Ir = { ...generated, version: IR_VERSION };
        const set = podClasses(inventory, [ir]);
        const model = new VersionModel(ir, set);
        set.endpoints.forEach((s, si) =>
          set.endpoints.forEach((d, di) => {
            const narrowed = model.narrowed(si, di);
            for (const port of probeIntervals(portsOf(ir.rules, ir.networkPolicies), d)) {
              const outcome = decide(narrowed, s, d, port);
              for (const sp of s.members ?? [undefined]) {
                for (const dp of d.members ?? [undefined]) {
                  const conn = { src: sp?.ips[0] ?? s.ip, dst: dp?.ips[0] ?? d.ip, protocol: port.protocol, ...(port.protocol === 'tcp' || port.protocol === 'udp' || port.protocol === 'sctp' ? { port: port.lo } : {}) } as const;
                  expect(outcome.verdict, `${conn.src} → ${conn.dst} ${port.protocol}/${port.lo}`).toBe(evaluate(ir, inventory, conn).verdict);
                }
              }
            }
          }),
        );
      }),
      { numRuns: 5, seed: 8 },
    );
  });
});

describe('on the scenario examples', () => {
  const root = new URL('../..', import.meta.url).pathname;
  const examples = readdirSync(join(root, 'examples')).filter((d) => existsSync(join(root, 'examples', d, 'dsl')) && existsSync(join(root, 'examples', d, 'yaml')));

  it('the DSL and YAML twins of every example diff to no change (diagnostics aside: they name their own files)', () => {
    expect(examples.length).toBeGreaterThan(10);
    for (const d of examples) {
      const report = diffIntents(compileFiles([`examples/${d}/dsl`], root), compileFiles([`examples/${d}/yaml`], root));
      expect(report.summary.total - report.summary.diagnosticsNew - report.summary.diagnosticsResolved, d).toBe(0);
    }
  });

  it('pod-level lines never repeat what one line says: namespace-level sides are merged', () => {
    const inventory = loadInventory('inventory.yaml', readFileSync(join(root, 'examples/inventory.yaml'), 'utf8')).inventory;
    const report = diffIntents(compileFiles(['examples/05-ingress-restriction/dsl'], root), compileFiles(['examples/11-tiers-and-actions/dsl'], root), inventory);
    expect(report.connectivity.length).toBeGreaterThan(3);
    for (const side of ['from', 'to'] as const) {
      const keys = report.connectivity
        .filter((c) => c[side].kind === 'namespace')
        .map((c) => [c.tenant, side === 'from' ? c.to.label : c.from.label, c.port, c.before, c.after, c.beforeBy.id, c.afterBy.id].join('|'));
      expect(new Set(keys).size, side).toBe(keys.length);
    }
    expect(report.connectivity.some((c) => / and \d+ more namespaces$/.test(c.from.label))).toBe(true);
    expect(report.connectivity.map((c) => c.port)).toContain('tcp/* except 443, 8080-8090');
  });
});

describe('JSON output', () => {
  it('every golden JSON report follows schemas/diff.schema.json', () => {
    const root = new URL('../..', import.meta.url).pathname;
    const validate = new Ajv2020({ allErrors: true }).compile(JSON.parse(readFileSync(join(root, 'schemas/diff.schema.json'), 'utf8')));
    const dir = new URL('./golden/', import.meta.url).pathname;
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) expect(validate(JSON.parse(readFileSync(join(dir, f), 'utf8'))), `${f}: ${JSON.stringify(validate.errors)}`).toBe(true);
  });
});
