import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../../src/cli/program.js';
import { commandModules } from '../../../src/cli/commands/index.js';
import { parseCidr } from '../../../src/backends/ipam/addresses.js';
import { PlanLayout } from '../../../src/backends/ipam/layout.js';
import { addAttachment } from '../../../src/backends/ipam/operations.js';
import { FileLeaseStore } from '../../../src/backends/ipam/store/index.js';
import { formatLease } from '../../../src/backends/ipam/lease.js';
import { scenarioPlan } from '../../backends/ipam/fixtures/plans.js';
import { removeDir, tempDir } from '../../backends/ipam/fixtures/real-parts.js';

const pod = (name: string, uid: string) => ({ namespace: 'acme-prod', name, uid, annotations: {}, namespaceLabels: {} });

function inventory(pods: { name: string; uid: string }[], statefulSets?: { name: string; replicas: number }[]): string {
  const docs = pods.map((p) => `apiVersion: v1\nkind: Pod\nmetadata: { name: ${p.name}, namespace: acme-prod, uid: ${p.uid} }\nstatus: { phase: Running, podIPs: [{ ip: 10.10.9.9 }] }\n`);
  for (const s of statefulSets ?? []) docs.push(`apiVersion: apps/v1\nkind: StatefulSet\nmetadata: { name: ${s.name}, namespace: acme-prod }\nspec: { replicas: ${s.replicas} }\n`);
  return docs.join('---\n');
}

describe('netintent ipam ls / gc', () => {
  let dir: string;
  let store: FileLeaseStore;
  const out: string[] = [];
  const err: string[] = [];
  const cli = (...argv: string[]) => runCli(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t), isTty: false, cwd: dir }, commandModules);

  beforeEach(async () => {
    out.length = 0;
    err.length = 0;
    dir = tempDir();
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(scenarioPlan()));
    const conflist = { cniVersion: '1.0.0', name: 'net1', plugins: [{ type: 'ptp', ipam: { type: 'netintent-ipam', plan: join(dir, 'plan.json'), store: { type: 'file', dir: join(dir, 'store') }, subnet: '10.10.0.0/16' } }, { type: 'portmap' }] };
    writeFileSync(join(dir, 'net.conflist'), JSON.stringify(conflist));
    store = new FileLeaseStore(join(dir, 'store'), 'net1');
    const layout = new PlanLayout(scenarioPlan(), { subnets: [{ cidr: parseCidr('10.10.0.0/16')! }], gateways: [] });
    for (const [cid, name, uid] of [['c-web', 'web-5d9c7b-abcde', 'u1'], ['c-web2', 'web-5d9c7b-fghij', 'u2'], ['c-m0', 'mysql-0', 'u3'], ['c-m2', 'mysql-2', 'u4']] as const) {
      await addAttachment(store, layout, { containerId: cid, ifname: 'eth0' }, pod(name, uid), { kind: 'none' });
    }
  });
  afterEach(() => removeDir(dir));

  it('ls prints leases, owners and free counts per pool', async () => {
    expect(await cli('ipam', 'ls', '--config', 'net.conflist')).toBe(0);
    const text = out.join('');
    expect(text).toContain('pool web-pool: 11 usable, 2 active, 0 released (sticky), 0 torn, 9 free');
    expect(text).toContain('pool mysql: 8 usable, 2 active');
    expect(text).toMatch(/10\.10\.0\.42 +active +acme-prod\/mysql-2 c-m2\/eth0 ordinal 2 of mysql pool:mysql/);
  });

  it('ls reports a conflict and exits 1, changing nothing', async () => {
    writeFileSync(join(dir, 'store/net1/leases/10.99.0.1'), formatLease({ ip: '10.99.0.1', family: 4, containerId: 'x', ifname: 'eth0', pod: { namespace: 'a', name: 'b', uid: '' }, state: 'active', since: new Date().toISOString() }));
    expect(await cli('ipam', 'ls', '--config', 'net.conflist', '--format', 'json')).toBe(1);
    const audit = JSON.parse(out.join('')) as { problems: { code: string; message: string }[] };
    expect(audit.problems.map((p) => p.code)).toEqual(['NI8109']);
    expect(audit.problems[0]!.message).toContain('10.99.0.1 is leased by pod a/b');
    expect(await store.read('10.99.0.1')).toBeDefined();
  });

  it('gc frees leases of gone or replaced pods and keeps sticky ordinals the StatefulSet still has', async () => {
    // web-...-abcde is gone, web-...-fghij was replaced (new UID), mysql-2 is gone but mysql has 3 replicas.
    writeFileSync(join(dir, 'inv.yaml'), inventory([{ name: 'web-5d9c7b-fghij', uid: 'other' }, { name: 'mysql-0', uid: 'u3' }], [{ name: 'mysql', replicas: 3 }]));
    expect(await cli('ipam', 'gc', '--config', 'net.conflist', '--inventory', 'inv.yaml', '--grace', '0')).toBe(0);
    expect(out.join('')).toContain('changed 3 lease(s)');
    expect(await store.read('10.10.0.10')).toBeUndefined();
    expect(await store.read('10.10.0.11')).toBeUndefined();
    expect(await store.read('10.10.0.42')).toMatchObject({ state: 'released', sticky: { ordinal: 2 } });
    expect(await store.read('10.10.0.40')).toMatchObject({ state: 'active' });
    expect((await store.listAttachments()).map((a) => a.containerId)).toEqual(['c-m0']);

    // Scaled down to 2: ordinal 2 goes for good.
    writeFileSync(join(dir, 'inv.yaml'), inventory([{ name: 'mysql-0', uid: 'u3' }], [{ name: 'mysql', replicas: 2 }]));
    expect(await cli('ipam', 'gc', '--config', 'net.conflist', '--inventory', 'inv.yaml', '--grace', '0')).toBe(0);
    expect(await store.read('10.10.0.42')).toBeUndefined();
  });

  it('gc keeps sticky leases when the inventory lists no StatefulSets, and says so', async () => {
    writeFileSync(join(dir, 'inv.yaml'), inventory([]));
    expect(await cli('ipam', 'gc', '--config', 'net.conflist', '--inventory', 'inv.yaml', '--grace', '0', '--dry-run')).toBe(0);
    expect(err.join('')).toContain('NI8111');
    expect(out.join('')).toContain('would change 4 lease(s)');
    expect(await store.read('10.10.0.10')).toBeDefined(); // dry run
    expect(await cli('ipam', 'gc', '--config', 'net.conflist', '--inventory', 'inv.yaml', '--grace', '0')).toBe(0);
    expect(await store.read('10.10.0.40')).toMatchObject({ state: 'released' });
  });

  it('gc leaves leases younger than the grace period', async () => {
    writeFileSync(join(dir, 'inv.yaml'), inventory([]));
    expect(await cli('ipam', 'gc', '--config', 'net.conflist', '--inventory', 'inv.yaml')).toBe(0);
    expect(out.join('')).toContain('changed 0 lease(s)');
  });

  it('fails with exit 1 on a config without netintent-ipam and 2 on usage errors', async () => {
    writeFileSync(join(dir, 'other.conf'), JSON.stringify({ cniVersion: '1.0.0', name: 'x', type: 'bridge', ipam: { type: 'host-local' } }));
    expect(await cli('ipam', 'ls', '--config', 'other.conf')).toBe(1);
    expect(err.join('')).toContain('NI8106');
    expect(await cli('ipam', 'gc', '--config', 'net.conflist')).toBe(2);
  });
});
