/**
 * The etcd lease store against the real `etcd` binary (Debian etcd-server): concurrent
 * allocators, then etcd stopped mid-run (code 11, STATUS code 50, DEL reports the
 * failure), restarted on the same data dir (recovery, nothing lost or duplicated).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openLeaseStore, type LeaseStore } from '../../../../src/backends/ipam/store/index.js';
import { addAttachment, checkAttachment, deleteAttachment, gcAttachments } from '../../../../src/backends/ipam/operations.js';
import { PlanLayout } from '../../../../src/backends/ipam/layout.js';
import { parseCidr } from '../../../../src/backends/ipam/addresses.js';
import { bigPoolPlan, scenarioPlan } from '../fixtures/plans.js';
import { HEAVY_TEST_TIMEOUT_MS, buildPlugin, removeDir, runPlugin, startEtcd, tempDir, type EtcdServer, type PluginBuild } from '../fixtures/real-parts.js';
import { expectStoreMatches, runWorker } from '../fixtures/concurrency.js';

describe('etcd lease store', () => {
  let build: PluginBuild;
  let dir: string;
  let etcd: Awaited<ReturnType<typeof startEtcd>>;
  const servers: EtcdServer[] = [];

  beforeAll(async () => {
    dir = tempDir();
    etcd = await startEtcd(join(dir, 'etcd-data'));
    servers.push(etcd);
    build = buildPlugin();
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(bigPoolPlan()));
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
    if (build) removeDir(build.dir);
    if (dir) removeDir(dir);
  });

  const storeConfig = (prefix: string) => ({ type: 'etcd' as const, endpoints: [etcd.endpoint], prefix, dialTimeoutMs: 1000 });
  function confFile(name: string): { file: string; conf: Record<string, unknown> } {
    const conf = { cniVersion: '1.1.0', name, type: 'ptp', ipam: { type: 'netintent-ipam', plan: join(dir, 'plan.json'), store: storeConfig('/nii-test'), subnet: '10.30.0.0/16' } };
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(conf));
    return { file, conf };
  }
  const open = (network: string): Promise<LeaseStore> => openLeaseStore(storeConfig('/nii-test'), network);

  it('8 allocator processes × 60 ADDs: no duplicate, every lease accounted for', async () => {
    const { file } = confFile('conc');
    const lines = (await Promise.all(Array.from({ length: 8 }, (_, w) => runWorker(build, file, w, 60)))).flat();
    expect(lines.filter((l) => l.error)).toEqual([]);
    const store = await open('conc');
    try {
      expect(await expectStoreMatches(store, lines)).toEqual({ duplicates: [], unaccounted: [], missing: [], torn: [] });
    } finally {
      await store.close();
    }
  }, HEAVY_TEST_TIMEOUT_MS);

  it('writes once per ADD and once per DEL: lease, hint and attachment record in one transaction', async () => {
    const store = await open('writes');
    const layout = new PlanLayout(bigPoolPlan(), { subnets: [{ cidr: parseCidr('10.30.0.0/16')! }], gateways: [] });
    const pod = { namespace: 'load', name: 'load-5d9c7b-abcde', uid: 'u', annotations: {}, namespaceLabels: {} };
    // etcd's revision counts write transactions; its JSON gateway reads it without a client.
    const revision = async (): Promise<number> => {
      const response = await fetch(`${etcd.endpoint}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/').toString('base64') }) });
      return Number(((await response.json()) as { header: { revision: string } }).header.revision);
    };
    try {
      const start = await revision();
      const [lease] = await addAttachment(store, layout, { containerId: 'w1', ifname: 'eth0' }, pod, { kind: 'none' });
      expect(await revision()).toBe(start + 1);
      expect(await store.readAttachment('w1', 'eth0')).toEqual([lease!.ip]);
      expect(await deleteAttachment(store, { containerId: 'w1', ifname: 'eth0' })).toEqual([lease]);
      expect(await revision()).toBe(start + 2);
      expect(await store.read(lease!.ip)).toBeUndefined();
      expect(await store.readAttachment('w1', 'eth0')).toBeUndefined();
    } finally {
      await store.close();
    }
  }, HEAVY_TEST_TIMEOUT_MS);

  it('keeps a StatefulSet ordinal across DEL and re-ADD; a late DEL of the old container frees nothing', async () => {
    const store = await open('sticky');
    const layout = new PlanLayout(scenarioPlan(), { subnets: [{ cidr: parseCidr('10.10.0.0/16')! }], gateways: [] });
    const mysql2 = (uid: string) => ({ namespace: 'acme-prod', name: 'mysql-2', uid, annotations: {}, namespaceLabels: {} });
    try {
      expect((await addAttachment(store, layout, { containerId: 'old', ifname: 'eth0' }, mysql2('a'), { kind: 'none' }))[0]!.ip).toBe('10.10.0.42');
      await deleteAttachment(store, { containerId: 'old', ifname: 'eth0' });
      expect(await store.read('10.10.0.42')).toMatchObject({ state: 'released', containerId: 'old' });
      expect((await addAttachment(store, layout, { containerId: 'new', ifname: 'eth0' }, mysql2('b'), { kind: 'none' }))[0]!.ip).toBe('10.10.0.42');
      await deleteAttachment(store, { containerId: 'old', ifname: 'eth0' });
      await checkAttachment(store, { containerId: 'new', ifname: 'eth0' }, ['10.10.0.42']);
    } finally {
      await store.close();
    }
  }, HEAVY_TEST_TIMEOUT_MS);

  it('answers "try again later" while etcd is down and recovers when it returns', async () => {
    const { file, conf } = confFile('outage');
    const before = await runWorker(build, file, 0, 20);
    expect(before.filter((l) => l.error)).toEqual([]);

    // Stop etcd once the allocator is well under way (not after a fixed time: the machine may be slow or fast).
    let underWay: () => void = () => {};
    const progressed = new Promise<void>((r) => (underWay = r));
    const running = runWorker(build, file, 1, 400, 'ADD', (done) => done >= 20 && underWay());
    await progressed;
    await etcd.stop();
    const call = (command: 'ADD' | 'DEL' | 'STATUS', containerId = 'x') =>
      runPlugin([process.execPath, build.main], { command, containerId, pod: { namespace: 'load', name: 'load-7f-zzzzz' }, conf });
    const add = call('ADD', 'down-add');
    expect(add.status).not.toBe(0);
    expect(add.json).toMatchObject({ cniVersion: '1.1.0', code: 11 });
    expect(String(add.json?.msg)).toMatch(/Lease store unreachable/);
    const del = call('DEL', before[0]!.containerId);
    expect(del.json).toMatchObject({ code: 11 }); // a real failure, not "already gone"
    expect(call('STATUS').json).toMatchObject({ code: 50 });
    await new Promise((r) => setTimeout(r, 1000));

    etcd = await startEtcd(etcd.dataDir, etcd.ports);
    servers.push(etcd);
    const during = await running;
    const after = await runWorker(build, file, 2, 20);
    expect(after.filter((l) => l.error)).toEqual([]);

    const failed = during.filter((l) => l.error);
    expect(failed.length).toBeGreaterThan(0);
    expect(new Set(failed.map((l) => l.error!.code))).toEqual(new Set([11]));
    expect(during.length - failed.length).toBeGreaterThan(0);

    // The runtime GCs with the attachments whose ADD succeeded: a claim committed just
    // before etcd died (its reply lost) is the only kind of leftover, and GC takes it back.
    const all = [...before, ...during, ...after];
    const store = await open('outage');
    try {
      await gcAttachments(store, all.filter((l) => l.ip).map((l) => ({ containerId: l.containerId, ifname: 'eth0' })), 0);
      expect(await expectStoreMatches(store, all)).toEqual({ duplicates: [], unaccounted: [], missing: [], torn: [] });
    } finally {
      await store.close();
    }
  }, HEAVY_TEST_TIMEOUT_MS);
});
