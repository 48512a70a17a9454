/**
 * `node run`: the reconcile loop. Follows the inventory (a watched file, or the API server
 * through informers) and the intent files, applies only the difference after a change,
 * probes the egress gateways, and checks for drift every `intervalS`. All work is
 * serialised: one reconcile at a time, and changes that arrive meanwhile are coalesced.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { resolve } from 'node:path';
import type { Server } from 'node:net';
import { hasErrors, type Diagnostic } from '../diagnostics/diagnostic.js';
import { loadInventory, type Inventory } from '../inventory/index.js';
import type { Ir } from '../ir/types.js';
import { canonicalJson } from '../ir/canonical.js';
import { compileFiles, findIntentFiles } from '../sources/index.js';
import { renderEgressPlan } from '../backends/egress/index.js';
import { NodeAgent, type ApplyReport } from './agent.js';
import { GatewayHealth, startHealthServer } from './health.js';

/** Where the inventory comes from: a file (watched), or the API server (`kubeconfig`: default in-cluster or ~/.kube/config). */
export type InventoryInput = { file: string } | { api: { kubeconfig?: string } };

export interface RunOptions {
  paths: string[];
  inventory: InventoryInput;
  node: string;
  cwd: string;
  /** Seconds between drift checks. */
  intervalS: number;
  healthPort: number;
  /** The L7 proxies' state directory (AgentOptions.stateDir). */
  stateDir?: string;
  /** Milliseconds between gateway probes; a gateway is down after 2 missed probes. */
  probeMs?: number;
  log: (line: string) => void;
  report: (diags: readonly Diagnostic[]) => void;
}

export function summary(r: ApplyReport): string {
  const tc = r.tc;
  return [`nft ${r.nft}`, `node table ${r.nodeTable}`, `proxies ${r.proxies}`, `tc applied ${tc.applied.length} removed ${tc.removed.length} skipped ${tc.skipped.length} failed ${tc.failed.length}`, `routes ${r.routes.length} changed`, r.ok ? 'ok' : 'FAILED (last good state kept)'].join(', ');
}

/** The inventory as the loop reads it: `key` changes whenever the content may have. */
interface InventoryFeed {
  /** Undefined when it cannot be read now (the last good state is kept). */
  current(): { key: string; load: () => { inventory: Inventory; diagnostics: Diagnostic[] } } | undefined;
  stop(): Promise<void>;
}

function fileFeed(file: string, cwd: string, log: (line: string) => void, changed: () => void): InventoryFeed {
  const path = resolve(cwd, file);
  watchFile(path, { interval: 300 }, changed);
  return {
    current() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        log(`cannot read ${file}: ${(e as Error).message}; keeping the last good state`);
        return undefined;
      }
      return { key: text, load: () => loadInventory(file, text) };
    },
    async stop() {
      unwatchFile(path);
    },
  };
}

async function apiFeed(kubeconfig: string | undefined, log: (line: string) => void, changed: () => void): Promise<InventoryFeed> {
  log('listing namespaces, nodes, pods and services from the API server');
  // Loaded only here: the Kubernetes client takes most of a second to import.
  const { ClusterInventory } = await import('./cluster-inventory.js');
  const cluster = await ClusterInventory.start({ ...(kubeconfig !== undefined ? { kubeconfig } : {}), log, onChange: changed });
  return {
    current: () => ({ key: `api version ${cluster.version}`, load: () => cluster.snapshot() }),
    stop: () => cluster.stop(),
  };
}

export interface RunningAgent {
  stop(): Promise<void>;
  /** Resolves when the first reconcile has finished. */
  ready: Promise<void>;
}

export async function startAgentLoop(opts: RunOptions): Promise<RunningAgent> {
  const probeMs = opts.probeMs ?? 1000;
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const next = queue.then(task, task);
    queue = next.catch(() => undefined);
    return next;
  };
  const health = new GatewayHealth({ self: opts.node, port: opts.healthPort, intervalMs: probeMs, timeoutMs: Math.min(probeMs, 500), failAfter: 2 }, () => {
    opts.log(`gateway health changed: re-routing`);
    void serial(async () => logReport('gateways', await agent.gatewaysChanged()));
  });
  const agent = new NodeAgent({
    node: opts.node,
    log: opts.log,
    activeGateway: (gw) => health.active(gw.candidates),
    ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
    report: (d) => opts.report([d]),
  });
  let server: Server | undefined;
  if (opts.healthPort > 0) server = await startHealthServer(opts.healthPort);

  let irKey = '';
  let inventoryKey = '';
  let ir: Ir | undefined;
  let inventory: Inventory | undefined;

  function logReport(what: string, r: ApplyReport | undefined, ms?: number): void {
    if (!r) return;
    if (r.diagnostics.length) opts.report(r.diagnostics);
    opts.log(`${what}: ${summary(r)}${ms !== undefined ? ` in ${ms.toFixed(1)} ms` : ''}`);
    const candidates = agent.egressPlan?.gateways.flatMap((g) => g.candidates) ?? [];
    health.watch(candidates);
  }

  let feed: InventoryFeed | undefined;
  /** Re-reads inputs; reconciles only when the IR or the inventory changed (or `force`). */
  const reconcileNow = async (why: string, force: boolean): Promise<void> => {
    const compiled = compileFiles(opts.paths, opts.cwd);
    const current = feed?.current();
    if (!current) return;
    const inv = current.key === inventoryKey && inventory ? { inventory, diagnostics: [] } : current.load();
    const diags = [...compiled.diagnostics, ...inv.diagnostics];
    if (!compiled.ir || hasErrors(diags)) {
      opts.report(diags);
      opts.log(`inputs have errors; keeping the last good state`);
      return;
    }
    const key = canonicalJson(compiled.ir);
    if (!force && key === irKey && current.key === inventoryKey) return;
    ir = compiled.ir;
    inventory = inv.inventory;
    const t0 = performance.now();
    await health.prime(renderEgressPlan(ir, inventory, opts.node).plan.gateways.flatMap((g) => g.candidates));
    const r = await agent.apply(ir, inventory);
    if (r.ok) {
      irKey = key;
      inventoryKey = current.key;
    }
    logReport(why, r, performance.now() - t0);
  };
  // A burst of changes (a rollout, an informer relist) queues one reconcile, not one each.
  let queued = false;
  const reconcile = (why: string, force = false): Promise<void> => {
    if (queued && !force) return queue.then(() => undefined);
    queued = true;
    return serial(() => {
      queued = false;
      return reconcileNow(why, force);
    });
  };

  const changed = (what: string) => () => void reconcile(`change of ${what}`);
  const input = opts.inventory;
  feed = 'file' in input ? fileFeed(input.file, opts.cwd, opts.log, changed(input.file)) : await apiFeed(input.api.kubeconfig, opts.log, changed('the cluster'));
  const ready = reconcile('startup', true);
  const intentFiles = findIntentFiles(opts.paths, opts.cwd).files.map((f) => resolve(opts.cwd, f));
  for (const f of intentFiles) watchFile(f, { interval: 300 }, changed(f));
  const drift = setInterval(() => {
    void serial(async () => {
      const { repaired, report } = await agent.checkDrift();
      if (repaired.length && report) logReport('drift check', report);
    });
    void reconcile('periodic');
  }, opts.intervalS * 1000);

  return {
    ready,
    async stop(): Promise<void> {
      clearInterval(drift);
      for (const f of intentFiles) unwatchFile(f);
      await feed?.stop();
      health.stop();
      await serial(async () => {
        // Enforcement stays (tables, qdiscs, routes survive a restart), but an egress IP
        // must not stay on a node whose agent no longer answers health probes: the next
        // gateway takes it over. The L7 proxies are the agent's children: they go with it.
        await agent.releaseEgressIps();
        await agent.stopProxies();
      });
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    },
  };
}
