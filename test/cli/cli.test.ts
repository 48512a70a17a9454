import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import Ajv2020 from 'ajv/dist/2020.js';
import { canonicalJson } from '../../src/ir/canonical.js';
import { netintent } from './run.js';

const root = new URL('../..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'ni-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const broken = 'group web { pods app = web }\npolicy p {\n  allow wbe -> web on tcp/99999\n}\n';

describe('netintent check', () => {
  it('exit 0 and no output on good input', async () => {
    const r = await netintent(['check', 'examples/05-ingress-restriction/dsl'], root);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('exit 1 with every diagnostic as a code frame', async () => {
    writeFileSync(join(work, 'broken.intent'), broken);
    const r = await netintent(['check', 'broken.intent'], work);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('broken.intent:3:9: error NI2001: Unknown group "wbe".');
    expect(r.stderr).toContain('3 |   allow wbe -> web on tcp/99999');
    expect(r.stderr).toContain('broken.intent:3:27: error NI4001: Invalid port 99999: out of range.');
    expect(r.stderr).toContain('2 errors, 0 warnings');
  });

  it('--format json follows schemas/diagnostics.schema.json; sarif and github too', async () => {
    writeFileSync(join(work, 'broken.intent'), broken);
    const json = await netintent(['check', 'broken.intent', '--format', 'json'], work);
    const schema = JSON.parse(readFileSync(join(root, 'schemas/diagnostics.schema.json'), 'utf8'));
    const validate = new Ajv2020().compile(schema);
    const parsed = JSON.parse(json.stdout);
    expect(validate(parsed), JSON.stringify(validate.errors)).toBe(true);
    expect(parsed.diagnostics).toHaveLength(2);
    const sarif = await netintent(['check', 'broken.intent', '--format', 'sarif'], work);
    expect(JSON.parse(sarif.stdout).runs[0].results).toHaveLength(2);
    const gh = await netintent(['check', 'broken.intent', '--format', 'github'], work);
    expect(gh.stdout.split('\n').filter(Boolean)).toHaveLength(2);
    expect(json.code + sarif.code + gh.code).toBe(3);
  });

  it('missing paths are input errors; unknown options are usage errors (exit 2)', async () => {
    const missing = await netintent(['check', 'nope'], work);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('error NI9001: Cannot read nope: no such file or directory.');
    const usage = await netintent(['check', '--frobnicate', 'x'], work);
    expect(usage.code).toBe(2);
    const format = await netintent(['check', 'x', '--format', 'xml'], work);
    expect(format.code).toBe(2);
  });

  it('--help works on every command', async () => {
    const top = await netintent(['--help'], root);
    expect(top.code).toBe(0);
    const commands = [...top.stdout.matchAll(/^ {2}([a-z-]+)(?: \[options\]| <)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['check', 'fmt', 'compile', 'import']));
    for (const c of commands) {
      const r = await netintent([c, '--help'], root);
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toContain(`Usage: netintent ${c}`);
    }
  });
});

describe('netintent compile', () => {
  it('prints the IR; identical bytes across runs and argument orders', async () => {
    const a = await netintent(['compile', 'examples/01-fixed-ip/dsl', 'examples/07-egress-gateway/dsl'], root);
    const b = await netintent(['compile', 'examples/07-egress-gateway/dsl', 'examples/01-fixed-ip/dsl'], root);
    expect(a.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    expect(JSON.parse(a.stdout).version).toBe('netintent.dev/ir/v1alpha1');
  });

  it('--out writes a stable tree; unknown targets are usage errors', async () => {
    const out = join(work, 'out');
    const r = await netintent(['compile', 'examples/02-isolation/dsl', '--out', out], root);
    expect(r.code).toBe(0);
    expect(readdirSync(out)).toEqual(['ir.json']);
    const bad = await netintent(['compile', 'examples/02-isolation/dsl', '--target', 'iptables'], root);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('NI5002');
  });

  it('errors stop the compile with exit 1 and print nothing on stdout', async () => {
    writeFileSync(join(work, 'broken.intent'), broken);
    const r = await netintent(['compile', 'broken.intent'], work);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  });
});

describe('netintent fmt', () => {
  it('--check flags unformatted files, --write fixes them, and the result is stable', async () => {
    const dir = join(work, 'fmt');
    cpSync(join(root, 'examples/11-tiers-and-actions/dsl'), dir, { recursive: true });
    const file = join(dir, 'tiers.intent');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/\n {2}/g, '\n      ').replace('group web {', 'group   web{'));
    expect((await netintent(['fmt', '--check', dir], work)).code).toBe(1);
    expect((await netintent(['fmt', '--write', dir], work)).code).toBe(0);
    const once = readFileSync(file, 'utf8');
    expect((await netintent(['fmt', '--check', dir], work)).code).toBe(0);
    expect(once).toContain('# Tiers, priorities and actions');
    const ir1 = await netintent(['compile', dir], work);
    const ir2 = await netintent(['compile', join(root, 'examples/11-tiers-and-actions/dsl')], work);
    const strip = (s: string): string => canonicalJson({ ...JSON.parse(s), sources: undefined });
    expect(strip(ir1.stdout)).toBe(strip(ir2.stdout));
  });

  it('bundled examples are formatted canonically', async () => {
    const r = await netintent(['fmt', '--check', 'examples'], root);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('netintent import', () => {
  it('NetworkPolicy YAML → DSL that compiles to the same IR', async () => {
    const r = await netintent(['import', 'examples/12-networkpolicy/yaml'], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('networkpolicy default/default-deny-ingress');
    writeFileSync(join(work, 'imported.intent'), r.stdout);
    const fromDsl = await netintent(['compile', 'imported.intent'], work);
    const fromYaml = await netintent(['compile', join(root, 'examples/12-networkpolicy/yaml')], work);
    const strip = (s: string): string => canonicalJson({ ...JSON.parse(s), sources: undefined });
    expect(strip(fromDsl.stdout)).toBe(strip(fromYaml.stdout));
  });
});

describe('the installed binary', () => {
  it('runs as a process with the documented exit codes', () => {
    const bin = join(root, 'dist/src/cli/main.js');
    expect(execFileSync(process.execPath, [bin, 'check', 'examples/01-fixed-ip/dsl'], { cwd: root, encoding: 'utf8' })).toBe('');
    let code = 0;
    try {
      execFileSync(process.execPath, [bin, 'compile'], { cwd: root, stdio: 'pipe' });
    } catch (e) {
      code = (e as { status: number }).status;
    }
    expect(code).toBe(2);
  });
});

describe('machine formats for usage and internal errors', () => {
  it('a usage error with --format json is a JSON diagnostic (NI9003), exit 2', async () => {
    const r = await netintent(['check', '--format', 'json', '--bogus'], root);
    expect(r.code).toBe(2);
    const parsed = JSON.parse(r.stdout);
    expect(parsed.diagnostics[0]).toMatchObject({ code: 'NI9003', severity: 'error' });
    expect(parsed.diagnostics[0].message).toContain("unknown option '--bogus'");
    expect(r.stderr).toBe('');
  });
});

describe('netintent compile --target nftables', () => {
  it('one script per node under --out, or the named node on stdout', async () => {
    const out = join(work, 'nft');
    const all = await netintent(['compile', 'examples/02-isolation/dsl', '--target', 'nftables', '--inventory', 'examples/inventory.yaml', '--out', out], root);
    expect(all.code).toBe(0);
    expect(readdirSync(join(out, 'nftables'))).toEqual(['gw-1.nft', 'gw-2.nft', 'node-1.nft', 'node-2.nft']);
    const one = await netintent(['compile', 'examples/02-isolation/dsl', '--target', 'nftables', '--inventory', 'examples/inventory.yaml', '--node', 'node-1'], root);
    expect(one.stdout).toBe(readFileSync(join(out, 'nftables/node-1.nft'), 'utf8'));
    expect(one.stdout).toContain('table inet netintent {');
  });

  it('needs an inventory (usage error) and a known node (input error)', async () => {
    expect((await netintent(['compile', 'examples/02-isolation/dsl', '--target', 'nftables'], root)).code).toBe(2);
    const r = await netintent(['compile', 'examples/02-isolation/dsl', '--target', 'nftables', '--inventory', 'examples/inventory.yaml', '--node', 'nope'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('NI6003');
  });
});

describe('netintent explain', () => {
  it('prints the decision as one chain line: [tier] action (rule at file:line) -> ...', async () => {
    const r = await netintent(['explain', 'examples/11-tiers-and-actions/dsl', '--inventory', 'examples/inventory.yaml', '--from', 'monitoring/frontend-1', '--to', 'finance/billing-1', '--port', '443/tcp'], root);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[1]).toBe(
      '  [admin] pass (security/1 at examples/11-tiers-and-actions/dsl/tiers.intent:23) -> [baseline] deny (default-deny-finance/0 at examples/11-tiers-and-actions/dsl/tiers.intent:32)',
    );
  });
});
