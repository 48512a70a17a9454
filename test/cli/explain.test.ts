import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { netintent } from './run.js';
import { parsePortSpec } from '../../src/cli/commands/explain.js';

const cwd = fileURLToPath(new URL('../fixtures/e2e/', import.meta.url));
const inv = ['--inventory', 'inventory.yaml'];

describe('netintent explain', () => {
  it('prints the verdict and the deciding rule with file:line', async () => {
    const r = await netintent(['explain', 'intents', ...inv, '--from', 'y/a', '--to', 'x/a', '--port', '80/tcp'], cwd);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^reject: y\/a \(10\.123\.2\.1\) -> x\/a \(10\.123\.1\.1\) 80\/tcp/);
    expect(r.stdout).toMatch(/1\. admin\s+rule:guard\/0\s+reject\s+intents\/guard\.intent:6/);
  });

  it('explains NetworkPolicy isolation, with JSON on request', async () => {
    const r = await netintent(['explain', 'intents', ...inv, '--from', '10.123.3.1', '--to', 'x/b', '--port', 'tcp/80', '--json'], cwd);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { verdict: string; ingress: { id: string }; chain: { id: string; source?: string }[] };
    expect(out.verdict).toBe('deny');
    expect(out.ingress.id).toBe('np:x/from-y');
    expect(out.chain[0]!.source).toMatch(/^intents\/x-from-y\.yaml:\d+$/);
  });

  it('rejects bad ports and unknown endpoints as usage errors', async () => {
    expect((await netintent(['explain', 'intents', ...inv, '--from', 'y/a', '--to', 'x/a', '--port', '80'], cwd)).code).toBe(2);
    expect((await netintent(['explain', 'intents', ...inv, '--from', 'q/q', '--to', 'x/a', '--port', '80/tcp'], cwd)).code).toBe(2);
    expect(parsePortSpec('icmp/8/0')).toEqual({ protocol: 'icmp', icmpType: 8, icmpCode: 0 });
    expect(parsePortSpec('udp/53')).toEqual({ protocol: 'udp', port: 53 });
  });
});

describe('netintent matrix', () => {
  it('prints the truth table', async () => {
    const r = await netintent(['matrix', 'intents', ...inv, '--port', '80/tcp', '--port', '81/tcp'], cwd);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^80\/tcp\s+1  2  3/);
    // Row y/b: x/a rejected (admin), x/b admitted from namespace y, the rest open; x/c cannot reach x/b.
    expect(lines[5]).toMatch(/^5 y\/b\s+R  \.  \.  \.  \.  \.  \.  \.  \./);
    expect(lines[3]).toMatch(/^3 x\/c\s+R  X  \./);
    const second = lines.findIndex((l) => l.startsWith('81/tcp'));
    expect(lines[second + 4]).toMatch(/^4 y\/a\s+X  \./);
  });
});
