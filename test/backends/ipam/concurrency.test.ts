/**
 * Many allocators on one pool at once, file store: 8 processes × 60 ADDs through the
 * plugin's entry (the full-size run, 8 × 500, is in bench/ipam.mjs), and 8 × 6 real
 * plugin processes. Zero duplicates; the store holds exactly the successful ADDs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileLeaseStore } from '../../../src/backends/ipam/store/index.js';
import { bigPoolPlan } from './fixtures/plans.js';
import { HEAVY_TEST_TIMEOUT_MS, buildPlugin, parseJson, removeDir, tempDir, type PluginBuild } from './fixtures/real-parts.js';
import { expectStoreMatches, runWorker, type WorkerLine } from './fixtures/concurrency.js';

describe('concurrent allocation on the file store', () => {
  let build: PluginBuild;
  let dir: string;
  beforeAll(() => {
    build = buildPlugin();
    dir = tempDir();
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(bigPoolPlan()));
  });
  afterAll(() => {
    removeDir(dir);
    removeDir(build.dir);
  });

  function conf(name: string): string {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ cniVersion: '1.1.0', name, type: 'ptp', ipam: { type: 'netintent-ipam', plan: join(dir, 'plan.json'), store: { type: 'file', dir: join(dir, 'store') }, subnet: '10.30.0.0/16' } }));
    return file;
  }

  it('8 allocator processes × 60 ADDs: no duplicate, every lease accounted for', async () => {
    const file = conf('conc');
    const lines = (await Promise.all(Array.from({ length: 8 }, (_, w) => runWorker(build, file, w, 60)))).flat();
    expect(lines.filter((l) => l.error)).toEqual([]);
    expect(lines).toHaveLength(480);
    const check = await expectStoreMatches(new FileLeaseStore(join(dir, 'store'), 'conc'), lines);
    expect(check).toEqual({ duplicates: [], unaccounted: [], missing: [], torn: [] });
  }, HEAVY_TEST_TIMEOUT_MS);

  it('8 × 6 plugin processes started at once: no duplicate', async () => {
    const confText = readFileSync(conf('procs'), 'utf8');
    const runOne = (w: number, i: number): Promise<WorkerLine> =>
      new Promise((resolve) => {
        const containerId = `p${w}-${i}`;
        const child = spawn(process.execPath, [build.main], {
          env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: containerId, CNI_IFNAME: 'eth0', CNI_NETNS: '/dev/null', CNI_ARGS: `K8S_POD_NAMESPACE=load;K8S_POD_NAME=load-7f-${String(w * 10 + i).padStart(5, '0')}` },
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.on('exit', () => {
          const json = parseJson(out) as { ips?: { address: string }[]; code?: number; msg?: string } | undefined;
          resolve({ containerId, ip: json?.ips?.[0]?.address.split('/')[0], ...(json?.code ? { error: { code: json.code, msg: json.msg! } } : {}), ms: 0 });
        });
        child.stdin.end(confText);
      });
    const lines: WorkerLine[] = [];
    for (let i = 0; i < 6; i++) lines.push(...(await Promise.all(Array.from({ length: 8 }, (_, w) => runOne(w, i)))));
    expect(lines.filter((l) => !l.ip)).toEqual([]);
    expect(await expectStoreMatches(new FileLeaseStore(join(dir, 'store'), 'procs'), lines)).toEqual({ duplicates: [], unaccounted: [], missing: [], torn: [] });
  }, HEAVY_TEST_TIMEOUT_MS);
});
