/** The CNI edge in-process: versions, error JSON and codes, GC and STATUS commands, files kept parsed. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCniArgs, runCni } from '../../../src/backends/ipam/cni.js';
import { scenarioPlan } from './fixtures/plans.js';
import { removeDir, tempDir } from './fixtures/real-parts.js';

describe('CNI edge', () => {
  let dir: string;
  let conf: Record<string, unknown>;
  beforeEach(() => {
    dir = tempDir();
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(scenarioPlan()));
    conf = { cniVersion: '1.1.0', name: 'net1', type: 'ptp', ipam: { type: 'netintent-ipam', plan: join(dir, 'plan.json'), store: { type: 'file', dir: join(dir, 'store') }, subnet: '10.10.0.0/16', routes: [{ dst: '0.0.0.0/0' }] } };
  });
  afterEach(() => removeDir(dir));

  const env = (command: string, containerId = 'c1', pod = 'web-5d9c7b-abcde') => ({
    CNI_COMMAND: command,
    CNI_CONTAINERID: containerId,
    CNI_IFNAME: 'eth0',
    CNI_NETNS: '/dev/null',
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=acme-prod;K8S_POD_NAME=${pod};K8S_POD_UID=u1`,
  });
  const run = async (command: string, c: unknown = conf, containerId?: string, pod?: string) => {
    const outcome = await runCni(env(command, containerId, pod), typeof c === 'string' ? c : JSON.stringify(c));
    return { ...outcome, json: outcome.stdout ? (JSON.parse(outcome.stdout) as Record<string, unknown>) : undefined };
  };

  it('parses CNI_ARGS', () => {
    expect(parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=a=b')).toEqual({ IgnoreUnknown: '1', K8S_POD_NAME: 'a=b' });
  });

  it('VERSION lists 1.0.0 and 1.1.0', async () => {
    expect((await run('VERSION', { cniVersion: '1.0.0' })).json).toEqual({ cniVersion: '1.0.0', supportedVersions: ['1.0.0', '1.1.0'] });
  });

  it('ADD returns the spec result: echoed version, CIDR address with gateway, routes', async () => {
    const add = await run('ADD');
    expect(add.exitCode).toBe(0);
    expect(add.json).toEqual({ cniVersion: '1.1.0', ips: [{ address: '10.10.0.10/16', gateway: '10.10.0.1' }], routes: [{ dst: '0.0.0.0/0' }], dns: {} });
    expect((await run('CHECK', { ...conf, prevResult: add.json })).exitCode).toBe(0);
    expect((await run('DEL')).exitCode).toBe(0);
    expect((await run('CHECK')).json).toMatchObject({ code: 114 });
  });

  it('reports errors as CNI error JSON with the spec codes', async () => {
    expect((await run('ADD', { ...conf, cniVersion: '0.4.0' })).json).toMatchObject({ cniVersion: '0.4.0', code: 1 });
    expect((await run('ADD', '{not json')).json).toMatchObject({ code: 6 });
    expect((await run('ADD', { ...conf, ipam: { type: 'netintent-ipam' } })).json).toMatchObject({ code: 7, msg: expect.stringContaining('ipam.plan') });
    expect((await run('ADD', { ...conf, ipam: { ...(conf.ipam as object), store: { type: 'nfs' } } })).json).toMatchObject({ code: 7 });
    expect((await run('ADD', conf, '')).json).toMatchObject({ code: 4 });
    expect((await run('FROB')).json).toMatchObject({ code: 4 });
    const failed = await run('ADD', conf, 'c9', 'mysql-9'); // past the 8 addresses of the StatefulSet pool
    expect(failed.exitCode).toBe(1);
    expect(failed.json).toMatchObject({ cniVersion: '1.1.0', code: 110, details: expect.stringContaining('NI8102') });
  });

  it('GC and STATUS need 1.1.0; GC releases attachments not in the valid list once past the grace period', async () => {
    await run('ADD', conf, 'keep', 'web-5d9c7b-aaaaa');
    await run('ADD', conf, 'drop', 'web-5d9c7b-bbbbb');
    expect((await run('GC', { ...conf, cniVersion: '1.0.0', 'cni.dev/valid-attachments': [] })).json).toMatchObject({ code: 1 });
    const valid = { 'cni.dev/valid-attachments': [{ containerID: 'keep', ifname: 'eth0' }] };
    // Within the grace period (default 60 s) a lease may belong to an ADD still running: kept.
    expect((await run('GC', { ...conf, ...valid })).exitCode).toBe(0);
    expect((await run('CHECK', conf, 'drop')).exitCode).toBe(0);
    expect((await run('GC', { ...conf, ...valid, ipam: { ...(conf.ipam as object), gcGraceSeconds: 0 } })).exitCode).toBe(0);
    expect((await run('CHECK', conf, 'keep')).exitCode).toBe(0);
    expect((await run('CHECK', conf, 'drop')).json).toMatchObject({ code: 114 });
    expect((await run('STATUS')).exitCode).toBe(0);
    expect((await run('STATUS', { ...conf, ipam: { ...(conf.ipam as object), plan: join(dir, 'missing.json') } })).json).toMatchObject({ code: 50 });
  });

  it('honours a plan changed between two commands, even rewritten at once with the same size', async () => {
    expect((await run('ADD', conf, 'db1', 'legacy-db')).json).toMatchObject({ ips: [{ address: '10.10.0.5/16' }] });
    expect((await run('DEL', conf, 'db1', 'legacy-db')).exitCode).toBe(0);
    // The intents now fix legacy-db to 10.10.0.7: same file size, likely the same mtime tick.
    const plan = scenarioPlan();
    plan.fixedIps[1]!.ips = ['10.10.0.7'];
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan));
    expect((await run('ADD', conf, 'db2', 'legacy-db')).json).toMatchObject({ ips: [{ address: '10.10.0.7/16' }] });
  });

  it('honours an inventory changed between two commands (the pod\'s requested address)', async () => {
    const inventory = (ip: string) =>
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-5d9c7b-abcde\n  namespace: acme-prod\n  annotations: { netintent.dev/ip: '${ip}' }\nstatus: { phase: Pending }\n`;
    const withInventory = { ...conf, ipam: { ...(conf.ipam as object), inventory: join(dir, 'inventory.yaml') } };
    writeFileSync(join(dir, 'inventory.yaml'), inventory('10.10.0.12'));
    expect((await run('ADD', withInventory, 'w1')).json).toMatchObject({ ips: [{ address: '10.10.0.12/16' }] });
    expect((await run('DEL', withInventory, 'w1')).exitCode).toBe(0);
    writeFileSync(join(dir, 'inventory.yaml'), inventory('10.10.0.13'));
    expect((await run('ADD', withInventory, 'w2')).json).toMatchObject({ ips: [{ address: '10.10.0.13/16' }] });
  });
});
