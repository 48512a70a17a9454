/**
 * kill -9 of plugin processes at random points of ADD and DEL, on both stores. The
 * "runtime" here believes an attachment exists when its ADD printed a result and no DEL
 * was started for it. Before GC, every lease must be named by its attachment's record (a
 * DEL finds it, however the ADD was killed); after a CNI GC with that list the store must
 * be readable and hold exactly those attachments' leases: no duplicate, no leak, no torn
 * claim, no debris.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StoreConfig } from '../../../src/backends/ipam/config.js';
import { isTorn, type Lease } from '../../../src/backends/ipam/lease.js';
import { openLeaseStore } from '../../../src/backends/ipam/store/index.js';
import { bigPoolPlan } from './fixtures/plans.js';
import { HEAVY_TEST_TIMEOUT_MS, buildPlugin, parseJson, removeDir, runPlugin, startEtcd, tempDir, type EtcdServer, type PluginBuild } from './fixtures/real-parts.js';

const PARALLEL = 8;

describe('plugin processes killed with SIGKILL mid-ADD and mid-DEL', () => {
  let build: PluginBuild;
  let dir: string;
  let etcd: EtcdServer | undefined;
  beforeAll(async () => {
    dir = tempDir();
    etcd = await startEtcd(join(dir, 'etcd-data'));
    build = buildPlugin();
    // A small pool, so that killed claims and reuse collide.
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(bigPoolPlan('10.30.0.200')));
  });
  afterAll(async () => {
    await etcd?.stop();
    if (dir) removeDir(dir);
    if (build) removeDir(build.dir);
  });

  it('file store: leaves, after GC, exactly the live attachments leased, once each', async () => {
    await crashScenario({ type: 'file', dir: join(dir, 'store') }, 12, [60, 220]);
    for (const sub of ['leases', 'attachments', 'hints']) expect(readdirSync(join(dir, 'store/crash', sub)).filter((n) => n.startsWith('.'))).toEqual([]);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('etcd store: leaves, after GC, exactly the live attachments leased, once each', async () => {
    // The etcd client takes longer to load: kill over a wider window.
    await crashScenario({ type: 'etcd', endpoints: [etcd!.endpoint], prefix: '/nii-crash', dialTimeoutMs: 1000 }, 6, [150, 900]);
  }, HEAVY_TEST_TIMEOUT_MS);

  async function crashScenario(store: StoreConfig, rounds: number, killWindowMs: [number, number]): Promise<void> {
    const conf = { cniVersion: '1.1.0', name: 'crash', type: 'ptp', ipam: { type: 'netintent-ipam', plan: join(dir, 'plan.json'), store, subnet: '10.30.0.0/16', gcGraceSeconds: 0 } };
    const live = new Map<string, string>(); // containerId → IP its ADD returned
    let kills = 0;
    let serial = 0;

    const invoke = (command: 'ADD' | 'DEL', containerId: string, killAfterMs: number | undefined): Promise<{ ip?: string; killed: boolean; code?: number }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [build.main], {
          env: { CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_IFNAME: 'eth0', CNI_NETNS: '/dev/null', CNI_ARGS: `K8S_POD_NAMESPACE=load;K8S_POD_NAME=load-7f-${containerId.slice(-5).padStart(5, '0')}` },
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        child.on('exit', (_code, signal) => {
          clearTimeout(timer);
          if (signal === 'SIGKILL') kills++;
          const json = parseJson(out) as { ips?: { address: string }[]; code?: number } | undefined;
          resolve({ ip: json?.ips?.[0]?.address.split('/')[0], killed: signal === 'SIGKILL', ...(json?.code ? { code: json.code } : {}) });
        });
        child.stdin.end(JSON.stringify(conf));
      });

    for (let round = 0; round < rounds; round++) {
      const jobs: Promise<void>[] = [];
      for (let p = 0; p < PARALLEL; p++) {
        // Kill about half the processes, somewhere between start-up and the end of their store work.
        const kill = Math.random() < 0.5 ? killWindowMs[0] + Math.random() * (killWindowMs[1] - killWindowMs[0]) : undefined;
        const victims = [...live.keys()];
        if (victims.length > 0 && Math.random() < 0.4) {
          const containerId = victims[Math.floor(Math.random() * victims.length)]!;
          live.delete(containerId); // the runtime starts DEL: the attachment is gone for it
          jobs.push(invoke('DEL', containerId, kill).then(() => undefined));
        } else {
          const containerId = `k${String(serial++).padStart(5, '0')}`;
          jobs.push(
            invoke('ADD', containerId, kill).then((r) => {
              if (r.ip && !r.killed) live.set(containerId, r.ip);
            }),
          );
        }
      }
      await Promise.all(jobs);
    }
    expect(kills).toBeGreaterThan(0);

    const before = await openLeaseStore(store, 'crash');
    try {
      const named = new Set((await before.listAttachments()).flatMap((a) => a.ips.map((ip) => `${a.containerId} ${ip}`)));
      const leases = (await before.list()).filter((r): r is Lease => !isTorn(r));
      expect(leases.filter((l) => !named.has(`${l.containerId} ${l.ip}`)).map((l) => `${l.ip} (${l.containerId})`)).toEqual([]);
    } finally {
      await before.close();
    }

    const gc = runPlugin([process.execPath, build.main], {
      command: 'GC',
      conf: { ...conf, 'cni.dev/valid-attachments': [...live.keys()].map((containerID) => ({ containerID, ifname: 'eth0' })) },
    });
    expect(gc.status, gc.stdout).toBe(0);

    const opened = await openLeaseStore(store, 'crash');
    try {
      const records = await opened.list();
      expect(records.filter(isTorn)).toEqual([]);
      const leases = records as Lease[];
      const byContainer = new Map(leases.map((l) => [l.containerId, l.ip]));
      expect(byContainer.size).toBe(leases.length); // one lease per attachment
      expect(Object.fromEntries(byContainer)).toEqual(Object.fromEntries(live)); // no leak, nothing lost, same IPs
      expect(new Set(live.values()).size).toBe(live.size); // no duplicate
      expect((await opened.listAttachments()).map((a) => a.containerId).sort()).toEqual([...live.keys()].sort());
    } finally {
      await opened.close();
    }
  }
});
