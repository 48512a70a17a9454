/**
 * `netintent ipam ls|gc`: audit and garbage-collect the leases of the netintent-ipam CNI
 * plugin. Both read the CNI network config file the plugin reads (a .conf or .conflist),
 * so they see the same plan and store.
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
  IpamError,
  openLeaseStore,
  parseIpamPlan,
  PlanLayout,
  readIpamConfig,
  readStatefulSets,
  type IpamConfig,
  type LeaseStore,
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

export const registerIpam: CommandModule = (program: Command, io: CliIo) => {
  const ipam = program.command('ipam').description('Audit and garbage-collect netintent-ipam leases.');

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
        const applied = opts.dryRun ? decision.actions : await applyGcActions(store, decision.actions);
        for (const a of applied) {
          const what = a.kind === 'removeTorn' ? a.ip : `${a.lease.ip} (${a.lease.pod.namespace}/${a.lease.pod.name})`;
          const d = diag('NI8116', undefined, [what, a.kind === 'release' ? 'kept for its StatefulSet ordinal' : 'freed', a.reason]);
          io.stdout(`${opts.dryRun ? 'would: ' : ''}${d.message}\n`);
        }
        io.stdout(`${opts.dryRun ? 'would change' : 'changed'} ${applied.length} lease(s)\n`);
      });
    });
};
