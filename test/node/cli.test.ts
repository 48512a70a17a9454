/** `netintent node apply --dry-run` prints the whole plan (nothing applied), and usage errors. */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { netintent } from '../cli/run.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('netintent node', () => {
  it('apply --dry-run: both nft tables, tc commands per pod, routes to the active gateway', async () => {
    const r = await netintent(['node', 'apply', 'examples/06-bandwidth/dsl', 'examples/07-egress-gateway/dsl', '--inventory', 'examples/inventory.yaml', '--node', 'node-1', '--dry-run'], root);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('table inet netintent {');
    expect(r.stdout).toContain('table inet netintent_node {');
    expect(r.stdout).toMatch(/# media\/\S+: rate:video-limit/);
    expect(r.stdout).toMatch(/class replace dev \S+ parent 1a1e: classid 1a1e:1 htb rate 10000000bit ceil 10000000bit burst 6250b/);
    expect(r.stdout).toMatch(/ip rule add fwmark 0x4e49[0-9a-f]{4} lookup \d+ priority 15000/);
    expect(r.stdout).toContain('ip route replace default via 10.0.0.21 table');
    // Deterministic: the same bytes twice.
    expect((await netintent(['node', 'apply', 'examples/06-bandwidth/dsl', 'examples/07-egress-gateway/dsl', '--inventory', 'examples/inventory.yaml', '--node', 'node-1', '--dry-run'], root)).stdout).toBe(r.stdout);
  });

  it('the gateway node SNATs and holds the egress IP', async () => {
    const r = await netintent(['node', 'apply', 'examples/07-egress-gateway/dsl', '--inventory', 'examples/inventory.yaml', '--node', 'gw-1', '--dry-run'], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('snat ip to 203.0.113.10');
    expect(r.stdout).toContain('ip addr add 203.0.113.10/32 dev <uplink>');
  });

  it('apply --dry-run with HTTP rules: the L7 table and the HAProxy configuration the agent runs', async () => {
    const r = await netintent(['node', 'apply', 'examples/08-l7-http/dsl', '--inventory', 'examples/inventory.yaml', '--node', 'node-1', '--dry-run'], root);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/chain l7_steer \{[^}]*dnat ip to 10\.0\.0\.11:\d+/);
    expect(r.stdout).toContain('# --- HAProxy (haproxy.cfg; the agent runs it, HTTP rules) ---');
    expect(r.stdout).toMatch(/frontend pod_10_244_1_50_80\n\s+bind 10\.0\.0\.11:\d+/);
    expect(r.stdout).toContain("{ method POST } { path_reg '^(?:/v1/request-landing)$' }");
    expect(r.stdout).toMatch(/# --- HAProxy acl\/pod_10_244_1_50_80\.from_\w+\.lst \(sources of an HTTP rule group; updated without a reload\) ---\n10\.244\.2\.50\n/);
  });

  it('usage: --inventory and --node are required (exit 2); an unknown node is an input error (exit 1)', async () => {
    expect((await netintent(['node', 'apply', 'examples/06-bandwidth/dsl', '--node', 'node-1'], root)).code).toBe(2);
    expect((await netintent(['node', 'run', 'examples/06-bandwidth/dsl', '--inventory', 'examples/inventory.yaml'], root)).code).toBe(2);
    const r = await netintent(['node', 'apply', 'examples/06-bandwidth/dsl', '--inventory', 'examples/inventory.yaml', '--node', 'nope', '--dry-run'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('NI6003');
  });
});
