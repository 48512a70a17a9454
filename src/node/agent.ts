/**
 * The node agent: makes one node match the intents. Order: nftables first (one atomic
 * transaction, so there is never an allow-all window), then the L7 proxies (HAProxy,
 * dnsmasq) when rules need them, then tc, then routes. Remembers what it applied, so a
 * reconcile changes only the difference (set elements when only pods churn, with or
 * without L7 rules; tc for the pods whose figures or interface changed) and a drift check
 * can repair what someone changed behind its back. A failure keeps the last good state.
 */
import { join } from 'node:path';
import { diag, hasErrors, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Ir } from '../ir/types.js';
import type { Inventory } from '../inventory/index.js';
import { canonicalJson } from '../ir/canonical.js';
import { familyOf } from '../ir/address.js';
import { applyNftScript } from '../backends/nftables/apply.js';
import { NftSession } from '../backends/nftables/session.js';
import { renderNodeUpdate, type NodeRulesetState, type NodeUpdate } from '../backends/nftables/index.js';
import { diffHaproxyAcls, renderL7ElementUpdate, withoutRuntimeElements, type HaproxyAclChange, type NodeL7Output } from '../backends/l7/index.js';
import { LEAF_LATENCY_MS, renderTcPlan, type PodShaping } from '../backends/tc/index.js';
import { buildNodeTable, NODE_TABLE, renderEgressPlan, renderEgressRoutes, renderNodeTableModel, renderNodeTableUpdate, type EgressPlan, type NodeTableModel } from '../backends/egress/index.js';
import { runTool, type HostOptions } from './exec.js';
import { listLinks, NetSnapshotReader, resolveHostInterfaces } from './interfaces.js';
import { NodeL7Proxies } from './l7.js';
import { podInterfaces, renderMainTable } from './plan.js';
import { applyEgressRoutes, findUplink } from './routes.js';
import { TcEdge, type TcObserved } from './tc.js';

export interface AgentOptions extends HostOptions {
  node: string;
  log?: (line: string) => void;
  /** Active gateway of an egress gateway (health checks); default: the first candidate. */
  activeGateway?: (gw: EgressPlan['gateways'][number]) => string | undefined;
  /** Where the L7 proxies keep their configurations and sockets; default DEFAULT_STATE_DIR. */
  stateDir?: string;
  /** Diagnostics that arrive between applies (an L7 proxy going down: NI8307). */
  report?: (d: Diagnostic) => void;
}

export const DEFAULT_STATE_DIR = '/run/netintent';

export interface ApplyReport {
  ok: boolean;
  nft: 'full' | 'elements' | 'none' | 'failed';
  nodeTable: 'applied' | 'none' | 'failed';
  /**
   * HAProxy and dnsmasq: started or reloaded, HAProxy's source ACLs changed at run time (no
   * reload: HTTP clients churned), stopped (no L7 rule any more), or not in use.
   */
  proxies: 'applied' | 'updated' | 'stopped' | 'none' | 'failed';
  tc: { applied: string[]; removed: string[]; skipped: string[]; failed: string[] };
  routes: string[];
  diagnostics: Diagnostic[];
  /** Milliseconds per step, for the log and the benchmark. */
  timings: { prepare: number; nft: number; proxies: number; tc: number; routes: number };
}

interface AppliedShaping {
  s: PodShaping;
  dev: string;
}

export class NodeAgent {
  private readonly tcEdge: TcEdge;
  private readonly proxies: NodeL7Proxies;
  /** The L7 output last applied (undefined: the plain table, and no proxy runs): the next L7 table is diffed against it. */
  private l7: NodeL7Output | undefined;
  private irKey: string | undefined;
  /** The intents last applied: kept as the same object while they do not change, which lets pod churn take the fast path. */
  private ir: Ir | undefined;
  private inventory: Inventory | undefined;
  /** The nftables model last applied: the next update is computed from it and the pods that changed, not rebuilt. */
  private nftState: NodeRulesetState | undefined;
  /** `nft list` of both tables right after the last successful apply (undefined: replace in full next time). */
  private listings: Promise<{ main: string; own: string } | undefined> = Promise.resolve(undefined);
  /** Bumped by every apply that changed the tables: only the newest one's listing is taken. */
  private listingGeneration = 0;
  /** The `nft list` in flight, if any: listings run one at a time. */
  private listingRun: Promise<unknown> = Promise.resolve();
  /** Whether both tables are as the last apply left them; false after drift or before the first apply: replace in full. */
  private tablesKnown = false;
  private nodeModel: NodeTableModel | undefined;
  private tcObserved: TcObserved | undefined;
  /** `uid|first IP` → host-side interface, as found when the pod was first seen. */
  private hostIfByPod = new Map<string, string>();
  private readonly shaped = new Map<string, AppliedShaping>();
  private cleanedUp = false;
  private egress: EgressPlan | undefined;
  private routesKey: string | undefined;
  /** Element updates (pod churn) go through one long-lived nft process: see session.ts. */
  private readonly nftSession: NftSession;
  private readonly netReader: NetSnapshotReader;

  constructor(private readonly opts: AgentOptions) {
    this.nftSession = new NftSession(opts.netns ? { netns: opts.netns } : {});
    this.netReader = new NetSnapshotReader(opts);
    this.tcEdge = new TcEdge(opts);
    this.proxies = new NodeL7Proxies({
      node: opts.node,
      dir: join(opts.stateDir ?? DEFAULT_STATE_DIR, 'l7'),
      ...(opts.netns ? { netns: opts.netns } : {}),
      ...(opts.report ? { report: opts.report } : {}),
    });
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  /**
   * Both tables' rules without counters (`-s`), so a listing changes only when the rules do,
   * from one `nft list ruleset inet` (one process, not one per table: each start costs
   * several ms on a busy node). A table missing from it is undefined; undefined altogether
   * when nothing could be listed.
   */
  private async listTables(): Promise<{ main?: string; own?: string } | undefined> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = await runTool(['nft', '-s', 'list', 'ruleset', 'inet'], this.opts);
      // Anything else than a listing (a dump interrupted by a concurrent change, a busy host): once more.
      if (!r.ok) continue;
      const tables = new Map<string, string>();
      for (const text of r.stdout.split(/^(?=table )/m)) {
        const name = /^table inet (\S+) \{/.exec(text)?.[1];
        if (name) tables.set(name, withoutRuntimeElements(text));
      }
      const main = tables.get('netintent');
      const own = tables.get(NODE_TABLE);
      return { ...(main !== undefined ? { main } : {}), ...(own !== undefined ? { own } : {}) };
    }
    return undefined;
  }

  /** Both listings, or undefined when either could not be taken (the drift check then replaces both in full). */
  private async listBoth(): Promise<{ main: string; own: string } | undefined> {
    const t = await this.listTables();
    return t?.main !== undefined && t.own !== undefined ? { main: t.main, own: t.own } : undefined;
  }

  /**
   * Takes what the kernel holds after an apply, for the drift check, once the apply is done:
   * in the background, one listing at a time, and for a burst of applies only after the
   * last one (a listing of a big table takes long; applies never wait for it).
   */
  private relist(): void {
    const generation = ++this.listingGeneration;
    this.listings = (async () => {
      await this.listingRun;
      await new Promise((resolve) => setImmediate(resolve));
      if (generation !== this.listingGeneration) return this.listings; // a newer apply's listing serves
      const run = this.listBoth();
      this.listingRun = run;
      return run;
    })();
  }

  private activeMap(egress: EgressPlan): Map<string, string | undefined> {
    return new Map(egress.gateways.map((g) => [g.id, this.opts.activeGateway ? this.opts.activeGateway(g) : g.candidates[0]?.node]));
  }

  async apply(ir: Ir, inventory: Inventory): Promise<ApplyReport> {
    const node = this.opts.node;
    const report: ApplyReport = { ok: true, nft: 'none', nodeTable: 'none', proxies: 'none', tc: { applied: [], removed: [], skipped: [], failed: [] }, routes: [], diagnostics: [], timings: { prepare: 0, nft: 0, proxies: 0, tc: 0, routes: 0 } };
    let mark = performance.now();
    const lap = (step: keyof ApplyReport['timings']): void => {
      const now = performance.now();
      report.timings[step] += now - mark;
      mark = now;
    };

    // The kernel is read once for all the renders, while they run. What tc holds is read once
    // and then tracked (a drift check or a failure reads it again); routes are read only for
    // pods not seen before (a pod keeps its veth while its uid and IP stay).
    const local = inventory.pods.filter((p) => p.nodeName === node && !p.hostNetwork && p.ips.length);
    const key = (p: (typeof local)[number]): string => `${p.uid}|${p.ips[0]}`;
    const unknown = local.filter((p) => !this.hostIfByPod.has(key(p)));
    const kernelReads = Promise.all([unknown.length ? this.netReader.read(new Set(unknown.map((p) => familyOf(p.ips[0]!)))) : undefined, this.tcObserved ?? this.tcEdge.observe()]);
    kernelReads.catch(() => undefined); // awaited below, unless the renders fail first

    const irKey = canonicalJson(ir);
    // Without L7 rules, pod churn is found from the changed pods (NodeRulesetState); the L7 table is diffed below.
    const incremental = this.irKey === irKey && this.l7 === undefined && this.inventory !== undefined && this.tablesKnown;
    // Unchanged intents: go on with the object applied last, which the nftables state was built from.
    if (this.irKey === irKey) ir = this.ir!;
    let update: { kind: NodeUpdate['kind']; script: string; diagnostics: Diagnostic[]; state?: NodeRulesetState; l7?: NodeL7Output } = incremental
      ? renderNodeUpdate(this.inventory!, inventory, ir, node, this.nftState)
      : { kind: 'full', ...renderMainTable(ir, inventory, node) };
    const l7 = update.l7;
    // The L7 table changes by its elements (or not at all) while the proxies keep their
    // configurations: a replace would flush the addresses dnsmasq learnt.
    const l7Elements = l7 && this.l7 && this.tablesKnown ? renderL7ElementUpdate(this.l7, l7) : undefined;
    if (l7Elements) update = { ...update, ...l7Elements };
    const tc = renderTcPlan(ir, inventory, node);
    const egress = renderEgressPlan(ir, inventory, node);
    report.diagnostics.push(...update.diagnostics, ...tc.diagnostics, ...egress.diagnostics);
    if (hasErrors(report.diagnostics)) return { ...report, ok: false };
    const [snapshot, observed] = await kernelReads;
    this.tcObserved = observed;
    const found = snapshot ? resolveHostInterfaces(snapshot, unknown.map((p) => p.ips[0]!)) : new Map<string, string>();
    const byPod = new Map<string, string>();
    const hostIf = new Map<string, string>();
    for (const p of local) {
      const dev = this.hostIfByPod.get(key(p)) ?? found.get(p.ips[0]!);
      if (dev === undefined) continue;
      byPod.set(key(p), dev);
      hostIf.set(p.ips[0]!, dev);
    }
    const active = this.activeMap(egress.plan);
    const nodeModel = buildNodeTable({ egress: egress.plan, active, interfaces: podInterfaces(inventory, node, hostIf) });
    const nodeUpdate = this.nodeModel && this.tablesKnown ? renderNodeTableUpdate(this.nodeModel, nodeModel) : undefined;
    const nodeScript = nodeUpdate ?? renderNodeTableModel(nodeModel, node);
    lap('prepare');

    // 0. HAProxy's source ACLs when only they changed (HTTP clients churned): the new sources
    // are added before the transaction below steers them, the old ones removed after it.
    const aclChanges = l7Elements && this.l7 ? diffHaproxyAcls(this.l7.haproxyAcls, l7!.haproxyAcls) : [];
    if (aclChanges.length) report.proxies = await this.updateHaproxyAcls(l7!, aclChanges, 'add', report);
    lap('proxies');

    // 1. nftables: both tables in ONE transaction (element updates when only pods churned,
    // whole tables otherwise): there is never a moment with only half of it in force. With
    // L7 rules the same transaction closes the proxy ports whose proxy is not up yet.
    const script = [update.kind === 'none' ? '' : update.script, nodeScript].filter(Boolean).join('\n');
    if (script) {
      const r =
        l7 && update.kind === 'full'
          ? await this.proxies.applyRuleset(l7, nodeScript).then(() => ({ ok: true, stderr: '' }), (e: Error) => ({ ok: false, stderr: e.message }))
          : NftSession.carries(script)
            ? await this.nftSession.run(script)
            : await applyNftScript(script, this.opts);
      if (!r.ok) {
        report.ok = false;
        report.diagnostics.push(diag('NI8203', undefined, [node, `nft (${update.kind}, table ${NODE_TABLE} ${nodeUpdate === undefined ? 'full' : 'elements'})`, r.stderr.trim()]));
        return { ...report, nft: 'failed', nodeTable: 'failed' };
      }
      this.tablesKnown = true;
    }
    report.nft = update.kind;
    report.nodeTable = nodeScript ? 'applied' : 'none';
    this.ir = ir;
    this.irKey = irKey;
    this.inventory = inventory;
    this.nftState = update.state;
    this.egress = egress.plan;
    this.nodeModel = nodeModel;
    this.hostIfByPod = byPod;
    lap('nft');

    try {
      // 2. The L7 proxies, after the table that closes their ports until they are up; stopped
      // only once a table without steering to them is in force.
      if (l7) {
        if (update.kind === 'full') report.proxies = await this.applyProxies(l7, report);
        // A fallback reload in step 0 loaded the final lists already.
        else if (report.proxies === 'updated') report.proxies = await this.updateHaproxyAcls(l7, aclChanges, 'remove', report);
      } else if (this.l7 !== undefined) {
        await this.proxies.stop();
        report.proxies = 'stopped';
      }
      this.l7 = l7;
      lap('proxies');

      // 3. tc: only pods whose figures or interface changed; a vanished pod is skipped.
      await this.applyShaping(tc.plan.pods, hostIf, observed, report);
      lap('tc');

      // 4. Routes and egress IPs.
      await this.applyRoutes(egress.plan, active, report);
      lap('routes');
    } finally {
      // Only nft changes the tables: listed once this reconcile is done, not delaying tc and routes.
      if (script) this.relist();
    }
    return report;
  }


  private async applyProxies(l7: NodeL7Output, report: ApplyReport): Promise<ApplyReport['proxies']> {
    try {
      await this.proxies.applyProxies(l7);
      return 'applied';
    } catch (e) {
      // Its ports stay closed (@l7_down) and the supervisor keeps restarting it.
      report.ok = false;
      report.diagnostics.push(diag('NI8203', undefined, [this.opts.node, 'L7 proxies', (e as Error).message]));
      return 'failed';
    }
  }

  /** One step of `NodeL7Proxies.updateHaproxyAcls`: 'updated', or 'applied' after a fallback reload (NI8309), or 'failed'. */
  private async updateHaproxyAcls(l7: NodeL7Output, changes: readonly HaproxyAclChange[], step: 'add' | 'remove', report: ApplyReport): Promise<ApplyReport['proxies']> {
    try {
      const fallback = await this.proxies.updateHaproxyAcls(l7, changes, step);
      if (fallback === undefined) return 'updated';
      report.diagnostics.push(diag('NI8309', undefined, [this.opts.node, fallback]));
      return 'applied';
    } catch (e) {
      // The ACL files are written first: a restart by the supervisor loads the current lists.
      report.ok = false;
      report.diagnostics.push(diag('NI8203', undefined, [this.opts.node, 'HAProxy source ACLs', (e as Error).message]));
      return 'failed';
    }
  }

  private async applyShaping(pods: readonly PodShaping[], hostIf: ReadonlyMap<string, string>, o: TcObserved, report: ApplyReport): Promise<void> {
    const todo: AppliedShaping[] = [];
    const planned = new Set<string>();
    for (const s of pods) {
      const dev = hostIf.get(s.ips[0]!);
      if (!dev) {
        report.tc.skipped.push(s.pod);
        report.diagnostics.push(diag('NI8202', undefined, [s.pod, s.ips[0]!]));
        continue;
      }
      planned.add(dev);
      const prev = this.shaped.get(s.pod);
      if (prev && prev.dev === dev && canonicalJson(prev.s) === canonicalJson(s) && this.cleanedUp) continue;
      todo.push({ s, dev });
    }
    // Shaping that is no longer wanted: pods gone or no longer limited; after a restart,
    // whatever our handles mark on interfaces that are not in the plan.
    const wanted = new Map(pods.map((s) => [s.pod, s]));
    const stillWanted = (pod: string, a: AppliedShaping): boolean => {
      const s = wanted.get(pod);
      return s !== undefined && hostIf.get(s.ips[0]!) === a.dev;
    };
    const stale = new Set<string>();
    for (const [pod, a] of this.shaped) if (!stillWanted(pod, a)) stale.add(a.dev);
    if (!this.cleanedUp) for (const dev of this.tcEdge.shapedDevices(o)) stale.add(dev);
    for (const dev of [...stale].filter((d) => !planned.has(d)).sort()) {
      const r = await this.tcEdge.removeDevice(dev, o);
      if (r.ok || /Cannot find device/.test(r.error ?? '')) report.tc.removed.push(dev);
      else report.diagnostics.push(diag('NI8203', undefined, [this.opts.node, `removing shaping from ${dev}`, r.error ?? '']));
    }
    for (const [pod, a] of this.shaped) if (!planned.has(a.dev) || !wanted.has(pod)) this.shaped.delete(pod);
    this.cleanedUp = true;

    const results = await this.tcEdge.applyPods(todo, o);
    const anyFailed = todo.some(({ dev }) => !results.get(dev)!.ok);
    const links = anyFailed ? await listLinks(this.opts) : new Set<string>();
    const missing = new Set(todo.flatMap(({ dev }) => results.get(dev)!.missing));
    for (const k of [...missing].sort()) report.diagnostics.push(diag('NI8204', undefined, [this.opts.node, k, k === 'netem' ? 'latency, jitter and loss are not applied' : `a TBF holding at most ${LEAF_LATENCY_MS} ms is the leaf queue instead`]));
    for (const { s, dev } of todo) {
      const r = results.get(dev)!;
      if (r.ok) {
        this.shaped.set(s.pod, { s, dev });
        report.tc.applied.push(s.pod);
        continue;
      }
      if (!links.has(dev)) {
        report.tc.skipped.push(s.pod); // the pod went away while we applied: not an error
        this.shaped.delete(s.pod);
        this.tcObserved = undefined;
        for (const [k, d] of this.hostIfByPod) if (d === dev) this.hostIfByPod.delete(k);
        continue;
      }
      report.ok = false;
      this.tcObserved = undefined;
      report.tc.failed.push(s.pod);
      report.diagnostics.push(diag('NI8203', undefined, [this.opts.node, `tc for pod ${s.pod} on ${dev}`, r.error ?? 'unknown error']));
      // Back to the last good figures for this pod (or to no shaping at all).
      const prev = this.shaped.get(s.pod);
      const o2 = await this.tcEdge.observe();
      if (prev && prev.dev === dev) await this.tcEdge.applyPod(prev.s, dev, o2);
      else await this.tcEdge.removeDevice(dev, o2);
    }
  }

  private async applyRoutes(egress: EgressPlan, active: ReadonlyMap<string, string | undefined>, report: ApplyReport): Promise<void> {
    const want = renderEgressRoutes(egress, active);
    // Unchanged since the last successful apply: nothing to ask the kernel (drift checks clear this).
    const key = canonicalJson(want);
    if (key === this.routesKey) return;
    const nodeAddrs = this.inventory?.nodes.find((n) => n.name === this.opts.node)?.addresses ?? [];
    const uplink = want.addresses.length ? await findUplink(nodeAddrs, this.opts) : undefined;
    const r = await applyEgressRoutes(want, uplink, this.opts);
    report.routes.push(...r.changes);
    if (r.errors.length === 0) this.routesKey = key;
    for (const e of r.errors) {
      report.ok = false;
      report.diagnostics.push(diag('NI8203', undefined, [this.opts.node, 'routing', e]));
    }
  }

  /** Re-decides the active gateways (after a health change) and applies what follows. */
  async gatewaysChanged(): Promise<ApplyReport | undefined> {
    if (!this.ir || !this.inventory) return undefined;
    return this.apply(this.ir, this.inventory); // the active gateways are read afresh
  }

  /**
   * Compares the kernel with what was applied and repairs the difference: both nft
   * tables, every shaped pod, the routes. Returns what it repaired.
   */
  async checkDrift(): Promise<{ repaired: string[]; report?: ApplyReport }> {
    if (!this.ir || !this.inventory) return { repaired: [] };
    const repaired: string[] = [];
    const [now, applied] = await Promise.all([this.listTables(), this.listings]);
    // A table that cannot be listed (gone) or lists differently has drifted.
    if (now?.main === undefined || now.main !== applied?.main) repaired.push('table inet netintent');
    if (now?.own === undefined || now.own !== applied?.own) repaired.push(`table inet ${NODE_TABLE}`);
    // Either table changed behind our back: replace both in full.
    if (repaired.length) this.tablesKnown = false;
    this.routesKey = undefined;
    this.tcObserved = undefined;
    this.hostIfByPod = new Map();
    for (const dev of await this.tcEdge.drifted([...this.shaped.values()])) {
      repaired.push(`tc on ${dev}`);
      for (const [pod, a] of this.shaped) if (a.dev === dev) this.shaped.delete(pod);
    }
    const report = await this.apply(this.ir, this.inventory);
    repaired.push(...report.routes.filter((r) => !r.startsWith('arping')).map((r) => `route: ${r}`));
    if (repaired.length) this.log(`drift repaired: ${repaired.join('; ')}`);
    return { repaired, report };
  }

  /** Gives up the egress IPs this node holds (on shutdown); rules and routes stay. */
  async releaseEgressIps(): Promise<void> {
    if (!this.egress) return;
    await applyEgressRoutes({ ...renderEgressRoutes(this.egress, this.activeMap(this.egress)), addresses: [] }, undefined, this.opts);
  }

  /** Stops HAProxy and dnsmasq and the nft/tc/ip sessions (on shutdown); the table stays, so what it steers to the proxies is refused, never let through. */
  async stopProxies(): Promise<void> {
    this.nftSession.close();
    this.tcEdge.close();
    this.netReader.close();
    await this.proxies.stop();
  }

  /** Whether HAProxy or dnsmasq run for this agent (a one-shot apply then has to stay). */
  get runsProxies(): boolean {
    return this.l7 !== undefined;
  }

  get egressPlan(): EgressPlan | undefined {
    return this.egress;
  }
}
