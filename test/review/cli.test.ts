import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netintent } from '../cli/run.js';
import { baseTexts, headTexts, shopInventory } from './scenarios.js';

/** A repository with two commits: the shop intents, then the open-port edit. */
const repo = mkdtempSync(join(tmpdir(), 'ni-review-git-'));
const git = (...args: string[]): string => execFileSync('git', args, { cwd: repo, encoding: 'utf8' });

beforeAll(() => {
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'review@test.invalid');
  git('config', 'user.name', 'review test');
  mkdirSync(join(repo, 'intents'));
  for (const f of baseTexts()) writeFileSync(join(repo, f.path), f.text);
  writeFileSync(join(repo, 'README.md'), 'not an intent\n');
  git('add', '-A');
  git('commit', '-qm', 'base');
  for (const f of headTexts('open-port')) writeFileSync(join(repo, f.path), f.text);
  git('commit', '-qam', 'open 8443');
  const inv = shopInventory();
  const items = [
    ...inv.namespaces.map((n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n.name, labels: n.labels } })),
    ...inv.pods.map((p) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: p.namespace, uid: p.uid, labels: p.labels }, spec: { nodeName: p.nodeName, containers: [{ name: 'main' }] }, status: { podIPs: p.ips.map((ip) => ({ ip })) } })),
  ];
  writeFileSync(join(repo, 'inventory.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
});
afterAll(() => rmSync(repo, { recursive: true, force: true }));

describe('netintent diff', () => {
  it('two git revisions, JSON: exit 3 and the opened port with its rule', async () => {
    const r = await netintent(['diff', 'git:HEAD~1:intents', 'git:HEAD:intents', '--format', 'json'], repo);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(3);
    const report = JSON.parse(r.stdout);
    expect(report.version).toBe('netintent.dev/diff/v1');
    expect(report.connectivity).toMatchObject([{ from: { label: 'web' }, to: { label: 'api' }, port: 'tcp/8443', after: 'allow', afterBy: { source: 'intents/shop.intent:25' } }]);
  });

  it('a revision against the work tree, Markdown', async () => {
    const r = await netintent(['diff', 'git:HEAD~1:intents', 'intents'], repo);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('## netintent diff: 2 changes');
    expect(r.stdout).toContain('| web | api | `tcp/8443` | deny → **allow** |');
  });

  it('with --inventory: pod level, pod pairs counted', async () => {
    const r = await netintent(['diff', 'git:HEAD~1:intents', 'intents', '--inventory', 'inventory.json', '--format', 'json'], repo);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ level: 'pods', connectivity: [{ podPairs: 6 }] });
  });

  it('no change: exit 0', async () => {
    const r = await netintent(['diff', 'git:HEAD:intents', 'intents'], repo);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no changes');
  });

  it('an unknown revision or a broken HEAD: exit 1 with diagnostics', async () => {
    const r = await netintent(['diff', 'git:no-such-rev:intents', 'intents'], repo);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('NI9001');
    writeFileSync(join(repo, 'broken.intent'), 'policy p {\n  allow nope -> web\n}\n');
    const broken = await netintent(['diff', 'intents', 'broken.intent'], repo);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('NI2001');
    const json = await netintent(['diff', 'intents', 'broken.intent', '--format', 'json'], repo);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout) as { version: string; diagnostics: { code: string }[] };
    expect(parsed.version).toBe('netintent.dev/diagnostics/v1');
    expect(parsed.diagnostics.map((d) => d.code)).toContain('NI2001');
  });

  it('a bad --format is a usage error', async () => {
    expect((await netintent(['diff', 'intents', 'intents', '--format', 'html'], repo)).code).toBe(2);
  });
});
