/**
 * The IPAM daemon (`netintent ipam serve`) and the native `netintent-ipam` shim: the same
 * bytes as the JS plugin for every command, the fallback without a daemon, a daemon
 * killed mid-run, concurrent shims on both stores, and the shim as ptp's IPAM.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import type { StoreConfig } from '../../../src/backends/ipam/config.js';
import { decodeRequest, encodeReply, encodeRequest } from '../../../src/backends/ipam/daemon/index.js';
import { isTorn, type Lease } from '../../../src/backends/ipam/lease.js';
import { openLeaseStore } from '../../../src/backends/ipam/store/index.js';
import { expectStoreMatches, type WorkerLine } from './fixtures/concurrency.js';
import { bigPoolPlan, scenarioPlan } from './fixtures/plans.js';
import {
  addNetns,
  buildPlugin,
  buildShim,
  CNI_BIN_DIR,
  HEAVY_TEST_TIMEOUT_MS,
  parseJson,
  reaches,
  removeDir,
  removeNetns,
  requireBinary,
  runPlugin,
  startEtcd,
  startIpamDaemon,
  tempDir,
  uniqueName,
  type EtcdServer,
  type IpamDaemonProcess,
  type PluginBuild,
} from './fixtures/real-parts.js';

describe('daemon wire format', () => {
  it('decodes a request only once all of it arrived, and rejects foreign bytes', () => {
    const bytes = encodeRequest({ env: { CNI_COMMAND: 'ADD', CNI_ARGS: 'A=b=c' }, stdin: Buffer.from('{"x":"é"}') });
    for (let cut = 0; cut < bytes.length; cut++) expect(decodeRequest(bytes.subarray(0, cut))).toBeUndefined();
    expect(decodeRequest(bytes)).toEqual({ env: { CNI_COMMAND: 'ADD', CNI_ARGS: 'A=b=c' }, stdin: Buffer.from('{"x":"é"}') });
    expect(() => decodeRequest(Buffer.from('GET / HTTP/1.1\r\n'))).toThrow(/magic/);
    expect(() => decodeRequest(Buffer.concat([bytes, Buffer.from('x')]))).toThrow(/after the request/);
    expect(encodeReply({ stdout: 'ok\n', exitCode: 1 })).toEqual(Buffer.from('NIP1\0\0\0\x01\0\0\0\x03ok\n', 'latin1'));
  });
});

interface Run {
  status: number;
  stdout: string;
}

/** One process, as a runtime runs a plugin: exactly this environment, stdin, stdout, exit code. */
function invoke(argv: string[], env: NodeJS.ProcessEnv, stdin: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { env });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('close', (code) => resolve({ status: code ?? -1, stdout })); // 'exit' may come before the last stdout bytes
    child.stdin.on('error', () => undefined); // a plugin that never reads stdin (VERSION)
    child.stdin.end(stdin);
  });
}

const podArgs = (namespace: string, name: string): string => `IgnoreUnknown=1;K8S_POD_NAMESPACE=${namespace};K8S_POD_NAME=${name};K8S_POD_UID=u1`;
const loadPod = (n: number): string => podArgs('load', `load-5d9c7b-${n.toString(36).padStart(5, '0')}`);

describe('netintent-ipam shim and daemon', () => {
  let build: PluginBuild;
  let shim: string;
  let dir: string;
  let etcd: EtcdServer | undefined;
  const daemons: IpamDaemonProcess[] = [];

  beforeAll(async () => {
    dir = tempDir();
    build = buildPlugin();
    shim = buildShim(build);
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(scenarioPlan()));
    writeFileSync(join(dir, 'load-plan.json'), JSON.stringify(bigPoolPlan()));
    etcd = await startEtcd(join(dir, 'etcd-data'));
  });
  afterAll(async () => {
    for (const d of daemons) await d.stop('SIGKILL');
    await etcd?.stop();
    if (dir) removeDir(dir);
    if (build) removeDir(build.dir);
  });

  async function daemon(socket: string): Promise<IpamDaemonProcess> {
    const d = await startIpamDaemon(build, socket);
    daemons.push(d);
    return d;
  }

  /** Every command and the errors, each with the environment a runtime would give. */
  function scenario(store: string): { env: NodeJS.ProcessEnv; stdin: string }[] {
    const conf = { cniVersion: '1.1.0', name: 'same', type: 'ptp', ipam: { type: 'netintent-ipam', plan: join(dir, 'plan.json'), store: { type: 'file', dir: store }, ranges: [[{ subnet: '10.10.0.0/16', gateway: '10.10.0.1' }], [{ subnet: 'fd00:10::/64' }]], routes: [{ dst: '0.0.0.0/0' }], gcGraceSeconds: 0 } };
    const text = JSON.stringify(conf);
    const cni = (command: string, containerId: string | undefined, args: string | undefined): NodeJS.ProcessEnv => ({
      CNI_COMMAND: command,
      ...(containerId !== undefined ? { CNI_CONTAINERID: containerId } : {}),
      CNI_IFNAME: 'eth0',
      CNI_NETNS: '/var/run/netns/x',
      CNI_PATH: CNI_BIN_DIR,
      ...(args !== undefined ? { CNI_ARGS: args } : {}),
    });
    const web = podArgs('acme-prod', 'web-5d9c7b-abcde');
    return [
      { env: { CNI_COMMAND: 'VERSION' }, stdin: '{"cniVersion":"1.0.0"}' },
      { env: { CNI_COMMAND: 'VERSION' }, stdin: '' },
      { env: cni('ADD', 'c-web', web), stdin: text },
      { env: cni('ADD', 'c-web', web), stdin: text },
      { env: cni('CHECK', 'c-web', web), stdin: JSON.stringify({ ...conf, prevResult: { cniVersion: '1.1.0', ips: [{ address: '10.10.0.10/16' }] } }) },
      { env: cni('ADD', 'c-db', podArgs('acme-prod', 'legacy-db')), stdin: text },
      { env: cni('ADD', 'c-tool', podArgs('acme-dev', 'tool')), stdin: text },
      { env: cni('ADD', 'c-stray', podArgs('elsewhere', 'stray')), stdin: text },
      { env: cni('ADD', 'c-noargs', undefined), stdin: text },
      { env: cni('ADD', undefined, web), stdin: text },
      { env: cni('DEL', 'c-web', web), stdin: text },
      { env: cni('DEL', 'c-web', web), stdin: text },
      { env: cni('CHECK', 'c-web', web), stdin: text },
      { env: cni('GC', undefined, undefined), stdin: JSON.stringify({ ...conf, 'cni.dev/valid-attachments': [{ containerID: 'c-db', ifname: 'eth0' }] }) },
      { env: cni('STATUS', undefined, undefined), stdin: text },
      { env: cni('STATUS', undefined, undefined), stdin: JSON.stringify({ ...conf, cniVersion: '1.0.0' }) },
      { env: cni('ADD', 'c-bad', web), stdin: '{"cniVersion": "1.1.0", ' },
      { env: cni('FROB', 'c-web', web), stdin: text },
      { env: cni('ADD', 'c-old', web), stdin: JSON.stringify({ ...conf, cniVersion: '0.4.0' }) },
      { env: cni('ADD', 'c-noplan', web), stdin: JSON.stringify({ ...conf, ipam: { ...conf.ipam, plan: join(dir, 'missing.json') } }) },
      { env: cni('CHECK', 'c-tool', podArgs('acme-dev', 'tool')), stdin: text },
    ];
  }

  async function runScenario(argv: string[], store: string, extraEnv: NodeJS.ProcessEnv): Promise<Run[]> {
    const runs: Run[] = [];
    for (const step of scenario(store)) runs.push(await invoke(argv, { ...step.env, ...extraEnv }, step.stdin));
    return runs;
  }

  it('gives, via the daemon, byte-identical stdout and exit codes to the JS plugin for every command and error; without a daemon it falls back to the plugin', async () => {
    const store = join(dir, 'same-store');
    const plugin = await runScenario([process.execPath, build.main], store, { PATH: process.env.PATH });
    // The scenario covers results and errors alike.
    expect(plugin[2]!.stdout).toContain('"address":"10.10.0.10/16"');
    expect(plugin.map((r) => parseJson(r.stdout)?.code).filter((c) => c !== undefined)).toEqual([4, 4, 114, 1, 6, 4, 1, 7, 114]);
    removeDir(store);

    const socket = join(dir, 'same.sock');
    const d = await daemon(socket);
    // No node on PATH: were the shim to fall back to the plugin, every run would fail.
    const viaDaemon = await runScenario([shim], store, { PATH: '/nonexistent', NETINTENT_IPAM_SOCKET: socket });
    expect(viaDaemon).toEqual(plugin);
    await d.stop('SIGTERM');
    removeDir(store);

    const fallback = await runScenario([shim], store, { PATH: process.env.PATH, NETINTENT_IPAM_SOCKET: socket });
    expect(fallback).toEqual(plugin);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('returns CNI error 11 when the daemon accepts but does not answer in time', async () => {
    const socket = join(dir, 'mute.sock');
    const held: Socket[] = [];
    const mute = createServer((s) => held.push(s));
    await new Promise<void>((r) => mute.listen(socket, () => r()));
    try {
      const run = await invoke([shim], { CNI_COMMAND: 'VERSION', NETINTENT_IPAM_SOCKET: socket, NETINTENT_IPAM_TIMEOUT_MS: '300' }, '{"cniVersion":"1.0.0"}');
      expect(run.status).toBe(1);
      expect(parseJson(run.stdout)).toMatchObject({ cniVersion: '1.0.0', code: 11 });
    } finally {
      for (const s of held) s.destroy();
      await new Promise((r) => mute.close(r));
    }
  });

  it('serve refuses a socket another daemon serves, and a path that is not a socket', async () => {
    const socket = join(dir, 'taken.sock');
    const first = await daemon(socket);
    const serve = (path: string) => spawnSync(process.execPath, [join(build.dir, 'dist/src/cli/main.js'), 'ipam', 'serve', '--socket', path], { encoding: 'utf8', timeout: 30_000 });
    const second = serve(socket);
    expect(second.status).toBe(1);
    expect(second.stderr).toContain('a daemon already serves');
    writeFileSync(join(dir, 'plain-file'), 'keep me');
    const plain = serve(join(dir, 'plain-file'));
    expect(plain.status).toBe(1);
    expect(plain.stderr).toContain('is not a socket');
    expect(readFileSync(join(dir, 'plain-file'), 'utf8')).toBe('keep me');
    await first.stop('SIGTERM');
    expect(existsSync(socket)).toBe(false); // removed at a clean stop
  }, HEAVY_TEST_TIMEOUT_MS);

  it('a shim copied away from its dist tree, without a daemon, answers CNI error 5 naming the cause', async () => {
    const lone = join(dir, 'lone');
    mkdirSync(lone);
    copyFileSync(shim, join(lone, 'netintent-ipam'));
    chmodSync(join(lone, 'netintent-ipam'), 0o755);
    const run = await invoke([join(lone, 'netintent-ipam')], { CNI_COMMAND: 'VERSION', PATH: process.env.PATH, NETINTENT_IPAM_SOCKET: join(dir, 'absent.sock') }, '{"cniVersion":"1.0.0"}');
    expect(run.status).toBe(1);
    expect(parseJson(run.stdout)).toMatchObject({ cniVersion: '1.0.0', code: 5, msg: expect.stringContaining('no JS plugin beside the shim') });
  });

  async function addLoop(socket: string, conf: string, worker: number, count: number, onDone: () => void): Promise<WorkerLine[]> {
    const lines: WorkerLine[] = [];
    for (let i = 0; i < count; i++) {
      const containerId = `s${worker}-c${i}`;
      const env = { PATH: process.env.PATH, NETINTENT_IPAM_SOCKET: socket, CNI_COMMAND: 'ADD', CNI_CONTAINERID: containerId, CNI_IFNAME: 'eth0', CNI_NETNS: '/dev/null', CNI_ARGS: loadPod(worker * 1000 + i) };
      const started = performance.now();
      let run = await invoke([shim], env, conf);
      // As a runtime does: "try again later" is retried.
      for (let retry = 0; retry < 3 && parseJson(run.stdout)?.code === 11; retry++) run = await invoke([shim], env, conf);
      const json = parseJson(run.stdout) as { ips?: { address: string }[]; code?: number; msg?: string } | undefined;
      const ip = run.status === 0 ? json?.ips?.[0]?.address.split('/')[0] : undefined;
      lines.push({ containerId, ...(ip ? { ip } : { error: { code: json?.code ?? -1, msg: json?.msg ?? `exit ${run.status}: ${run.stdout}` } }), ms: performance.now() - started });
      onDone();
    }
    return lines;
  }

  const loadConf = (name: string, store: StoreConfig): string =>
    JSON.stringify({ cniVersion: '1.1.0', name, ipam: { type: 'netintent-ipam', plan: join(dir, 'load-plan.json'), store, subnet: '10.30.0.0/16' } });

  for (const [label, perShim] of [['file', 40], ['etcd', 20]] as const) {
    it(`8 concurrent shim processes × ${perShim} ADDs through the daemon, ${label} store: no duplicate, every lease an ADD result`, async () => {
      const store: StoreConfig = label === 'file' ? { type: 'file', dir: join(dir, 'conc-store') } : { type: 'etcd', endpoints: [etcd!.endpoint], prefix: '/nii-daemon', dialTimeoutMs: 2000 };
      const socket = join(dir, `conc-${label}.sock`);
      const d = await daemon(socket);
      const conf = loadConf(`conc${label}`, store);
      const lines = (await Promise.all(Array.from({ length: 8 }, (_, w) => addLoop(socket, conf, w, perShim, () => undefined)))).flat();
      await d.stop('SIGTERM');
      expect(lines.filter((l) => l.error)).toEqual([]);
      const opened = await openLeaseStore(store, `conc${label}`);
      try {
        expect(await expectStoreMatches(opened, lines)).toEqual({ duplicates: [], unaccounted: [], missing: [], torn: [] });
        expect((await opened.list()).length).toBe(8 * perShim);
      } finally {
        await opened.close();
      }
    }, HEAVY_TEST_TIMEOUT_MS);
  }

  it('daemon killed with SIGKILL mid-run, then restarted: shims fall back to the plugin; no lease lost or duplicated', async () => {
    const store: StoreConfig = { type: 'file', dir: join(dir, 'kill-store') };
    const socket = join(dir, 'kill.sock');
    let current = await daemon(socket);
    const conf = loadConf('kill', store);
    const PER_SHIM = 24;
    let done = 0;
    let killedAt = -1;
    let restarting: Promise<void> | undefined;
    const onDone = (): void => {
      done++;
      if (killedAt < 0 && done >= 40) {
        killedAt = done;
        void current.stop('SIGKILL'); // leaves its socket file behind: shims get "refused"
      } else if (killedAt > 0 && !restarting && done >= 110) {
        restarting = daemon(socket).then((d) => {
          current = d;
        });
      }
    };
    const lines = (await Promise.all(Array.from({ length: 8 }, (_, w) => addLoop(socket, conf, w, PER_SHIM, onDone)))).flat();
    await restarting;
    await current.stop('SIGTERM');
    expect(killedAt).toBeGreaterThan(0);
    expect(lines.filter((l) => l.error)).toEqual([]);

    const opened = await openLeaseStore(store, 'kill');
    try {
      const { duplicates, missing, unaccounted } = await expectStoreMatches(opened, lines);
      expect(duplicates).toEqual([]);
      expect(missing).toEqual([]); // every address handed out is leased to its container
      // An ADD killed between its claim and its attachment record and then replayed may
      // leave its first claim behind, still naming the same container: at most one per
      // ADD in flight at the kill.
      const ours = new Set(lines.map((l) => l.containerId));
      const leases = (await opened.list()).filter((r): r is Lease => !isTorn(r));
      expect(leases.filter((l) => !ours.has(l.containerId))).toEqual([]);
      expect(unaccounted.length).toBeLessThanOrEqual(8);
    } finally {
      await opened.close();
    }
  }, HEAVY_TEST_TIMEOUT_MS);

  describe('as the IPAM of the reference ptp plugin, in network namespaces', () => {
    const namespaces: string[] = [];
    afterAll(() => {
      for (const ns of namespaces) removeNetns(ns);
    });

    it('gives a pod its fixed IP', async () => {
      requireBinary(join(CNI_BIN_DIR, 'ptp'), 'containernetworking-plugins');
      requireBinary('/usr/bin/ip', 'iproute2');
      // CNI_PATH: a directory with the shim under its CNI name, then the reference plugins.
      const cniDir = join(dir, 'cni-bin');
      mkdirSync(cniDir);
      symlinkSync(shim, join(cniDir, 'netintent-ipam'));
      const socket = join(dir, 'ptp.sock');
      const d = await daemon(socket);
      const node = uniqueName();
      const pod = uniqueName();
      namespaces.push(node, pod);
      addNetns(node);
      const netns = addNetns(pod);
      const network = uniqueName('niid').replace(/-/g, '');
      const conf = {
        cniVersion: '1.0.0',
        name: network,
        type: 'ptp',
        ipMasq: false,
        ipam: { type: 'netintent-ipam', plan: join(dir, 'plan.json'), store: { type: 'file', dir: join(dir, 'ptp-store') }, ranges: [[{ subnet: '10.10.0.0/16', gateway: '10.10.0.1' }]], routes: [{ dst: '0.0.0.0/0' }] },
      };
      const call = { containerId: 'ctr-legacy-db', netns, pod: { namespace: 'acme-prod', name: 'legacy-db' }, conf, inNetns: node, cniPath: `${cniDir}:${CNI_BIN_DIR}`, env: { NETINTENT_IPAM_SOCKET: socket } };
      const add = runPlugin([join(CNI_BIN_DIR, 'ptp')], { command: 'ADD', ...call });
      expect(add.status, add.stdout + add.stderr).toBe(0);
      expect((add.json?.ips as { address: string }[]).map((i) => i.address)).toEqual(['10.10.0.5/16']);
      expect(execFileSync('ip', ['-n', pod, '-4', '-o', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' })).toContain('10.10.0.5/');
      expect(await reaches(pod, node, '10.10.0.1')).toBe(true);
      const del = runPlugin([join(CNI_BIN_DIR, 'ptp')], { command: 'DEL', ...call });
      expect(del.status, del.stdout + del.stderr).toBe(0);
      await d.stop('SIGTERM');
      const opened = await openLeaseStore({ type: 'file', dir: join(dir, 'ptp-store') }, network);
      expect(await opened.list()).toEqual([]);
    }, HEAVY_TEST_TIMEOUT_MS);
  });
});
