/**
 * `netintent ipam ls|gc`: audit and garbage-collect the leases of the netintent-ipam CNI
 * plugin. Both read the CNI network config file the plugin reads (a .conf or .conflist),
 * so they see the same plan and store. `netintent ipam serve`: the node-local daemon the
 * native `netintent-ipam` shim talks to.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { diag, type Diagnostic } from '../../diagnostics/diagnostic.js';
import { loadInventory } from '../../inventory/index.js';
import {
  applyGcActions,
  auditLeases,
  decideInventoryGc,
  DEFAULT_SOCKET_PATH,
  IpamError,
  openLeaseStore,
  parseIpamPlan,
  PlanLayout,
  readIpamConfig,
  readStatefulSets,
  readStoreConfig,
  serveIpam,
  type IpamConfig,
  type IpamDaemon,
  type LeaseStore,
  type StoreConfig,
} from '../../backends/ipam/index.js';
import { EXIT_INPUT, ExitError, type CliIo, type CommandModule } from '../program.js';

const IPAM_TYPE = 'netintent-ipam';

function formatDiagnostic(d: Diagnostic): string {
  return `${d.severity} ${d.code}: ${d.message}\n${d.help ? `  help: ${d.help}\n` : ''}`;
}

function fail(io: CliIo, diagnostics: Diagnostic[]): never {
  for (const d of diagnostics) io.stderr(formatDiagnostic(d));
  throw new ExitError(EXIT_INPUT);
}

function readText(io: CliIo, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    return fail(io, [diag('NI9001', undefined, [path, (e as Error).message])]);
  }
}

/** The plugin's config from a .conf (one plugin) or .conflist (the plugin using netintent-ipam). */
function readNetworkConfig(io: CliIo, path: string): IpamConfig {
  let conf: Record<string, unknown>;
  try {
    conf = JSON.parse(readText(io, path)) as Record<string, unknown>;
  } catch (e) {
    return fail(io, [diag('NI8106', undefined, [`${path}: ${(e as Error).message}`])]);
  }
  const plugins = Array.isArray(conf.plugins) ? (conf.plugins as Record<string, unknown>[]) : [conf];
  const plugin = plugins.find((p) => (p?.ipam as { type?: unknown } | undefined)?.type === IPAM_TYPE);
  if (!plugin) return fail(io, [diag('NI8106', undefined, [`${path} has no plugin with "ipam": {"type": "${IPAM_TYPE}"}`])]);
  return readIpamConfig({ name: conf.name, cniVersion: conf.cniVersion, ipam: plugin.ipam });
}

async function withStore<T>(io: CliIo, configPath: string, run: (config: IpamConfig, store: LeaseStore, layout: PlanLayout) => Promise<T>): Promise<T> {
  let store: LeaseStore | undefined;
  try {
    const config = readNetworkConfig(io, resolve(io.cwd, configPath));
    const layout = new PlanLayout(parseIpamPlan(config.plan, readText(io, config.plan)), config);
    store = await openLeaseStore(config.store, config.network);
    return await run(config, store, layout);
  } catch (e) {
    if (e instanceof IpamError) fail(io, [e.diagnostic]);
    throw e;
  } finally {
    await store?.close();
  }
}

function parseGrace(text: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(text);
  if (!m) throw new Error(`invalid duration "${text}" (e.g. 0, 30s, 5m)`);
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
}

/** `--store-config '{"network":"pods","store":{"type":"etcd","endpoints":[...]}}'` */
function readWarmStore(io: CliIo, text: string): { network: string; store: StoreConfig } {
  try {
    const value = JSON.parse(text) as { network?: unknown; store?: unknown };
    if (typeof value.network !== 'string') throw new Error('"network" (the CNI network name) is missing');
    return { network: value.network, store: readStoreConfig(value.store) };
  } catch (e) {
    const message = e instanceof IpamError ? e.diagnostic.message : (e as Error).message;
    return fail(io, [diag('NI9003', undefined, [`--store-config ${text}: ${message}`])]);
  }
}

const untilStopped = (): Promise<string> =>
  new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });

export const registerIpam: CommandModule = (program: Command, io: CliIo) => {
  const ipam = program.command('ipam').description('Audit and garbage-collect netintent-ipam leases; run the IPAM daemon.');

  ipam
    .command('serve')
    .description('Run the node-local IPAM daemon: one CNI command per connection on a Unix socket, run as the plugin runs it, with stores kept open.')
    .option('--socket <path>', 'Unix socket to listen on (the shim reads NETINTENT_IPAM_SOCKET)', DEFAULT_SOCKET_PATH)
    .option('--plan <file>', 'check this IPAM plan at start-up (requests still read the plan their config names)')
    .option('--store-config <json...>', 'open these stores at start-up (e.g. connect to etcd): {"network":NAME,"store":{...as ipam.store}}', [])
    .action(async (opts: { socket: string; plan?: string; storeConfig: string[] }) => {
      if (opts.plan) {
        const plan = resolve(io.cwd, opts.plan);
        try {
          parseIpamPlan(plan, readText(io, plan));
        } catch (e) {
          if (e instanceof IpamError) fail(io, [e.diagnostic]);
          throw e;
        }
      }
      const warm = opts.storeConfig.map((text) => readWarmStore(io, text));
      const socket = resolve(io.cwd, opts.socket);
      let daemon: IpamDaemon;
      try {
        daemon = await serveIpam(socket, (message) => io.stderr(`netintent-ipam daemon: ${message}\n`));
      } catch (e) {
        return fail(io, [diag('NI9003', undefined, [`--socket ${socket}: ${(e as Error).message}`])]);
      }
      for (const { network, store } of warm) {
        try {
          await (await daemon.stores.open(store, network)).ping();
        } catch (e) {
          // Not fatal: the store may come up later, and each request retries it.
          io.stderr(`netintent-ipam daemon: store of network ${network} not ready: ${(e as Error).message}\n`);
        }
      }
      io.stderr(`netintent-ipam daemon: listening on ${socket}\n`);
      const signal = await untilStopped();
      io.stderr(`netintent-ipam daemon: ${signal}, finishing requests in flight\n`);
      await daemon.close();
    });

  ipam
    .command('ls')
    .description('Print leases, owners and free counts per pool; report leaks and conflicts (exit 1 on conflicts).')
    .requiredOption('--config <file>', 'CNI network config (.conf/.conflist) using netintent-ipam')
    .option('--format <format>', 'human or json', 'human')
    .action(async (opts: { config: string; format: string }) => {
      await withStore(io, opts.config, async (config, store, layout) => {
        const audit = auditLeases(layout, await store.list(), await store.listAttachments(), config.gcGraceMs, Date.now());
        if (opts.format === 'json') {
          io.stdout(`${JSON.stringify({ network: config.network, ...audit }, null, 2)}\n`);
        } else {
          io.stdout(`network ${config.network} (${config.store.type} store)\n`);
          for (const p of audit.pools) {
            io.stdout(`pool ${p.name}: ${p.usable} usable, ${p.active} active, ${p.released} released (sticky), ${p.torn} torn, ${p.free} free\n`);
          }
          for (const l of audit.leases) {
            const sticky = l.sticky ? ` ordinal ${l.sticky.ordinal} of ${l.sticky.statefulSet}` : '';
            io.stdout(`  ${l.ip.padEnd(16)} ${l.state.padEnd(8)} ${l.pod.namespace}/${l.pod.name} ${l.containerId.slice(0, 12)}/${l.ifname}${sticky} ${l.pool ?? 'fixed'} since ${l.since}\n`);
          }
          for (const d of audit.problems) io.stdout(formatDiagnostic(d));
        }
        if (audit.problems.some((d) => d.code === 'NI8109')) throw new ExitError(EXIT_INPUT);
      });
    });

  ipam
    .command('gc')
    .description('Release leases whose pods are gone from the inventory; sticky StatefulSet leases only when the StatefulSet is gone or scaled below the ordinal.')
    .requiredOption('--config <file>', 'CNI network config (.conf/.conflist) using netintent-ipam')
    .requiredOption('--inventory <file>', 'kubectl get namespaces,pods,nodes,services,statefulsets -A -o yaml')
    .option('--grace <duration>', 'leave leases younger than this (the inventory may predate their pods)', '60s')
    .option('--dry-run', 'print what would be released, change nothing')
    .action(async (opts: { config: string; inventory: string; grace: string; dryRun?: boolean }) => {
      let graceMs: number;
      try {
        graceMs = parseGrace(opts.grace);
      } catch (e) {
        return fail(io, [diag('NI9003', undefined, [(e as Error).message])]);
      }
      const inventoryPath = resolve(io.cwd, opts.inventory);
      const text = readText(io, inventoryPath);
      const { inventory, diagnostics } = loadInventory(inventoryPath, text, { keepPodsWithoutIps: true });
      if (diagnostics.some((d) => d.severity === 'error')) fail(io, diagnostics);
      await withStore(io, opts.config, async (_config, store) => {
        const decision = decideInventoryGc(await store.list(), inventory, readStatefulSets(text), graceMs, Date.now());
        for (const d of decision.notes) io.stderr(formatDiagnostic(d));
        const applied = opts.dryRun ? decision.actions : await applyGcActions(store, decision.actions, graceMs);
        for (const a of applied) {
          const what = a.kind === 'removeTorn' ? a.ip : `${a.lease.ip} (${a.lease.pod.namespace}/${a.lease.pod.name})`;
          const d = diag('NI8116', undefined, [what, a.kind === 'release' ? 'kept for its StatefulSet ordinal' : 'freed', a.reason]);
          io.stdout(`${opts.dryRun ? 'would: ' : ''}${d.message}\n`);
        }
        io.stdout(`${opts.dryRun ? 'would change' : 'changed'} ${applied.length} lease(s)\n`);
      });
    });
};
