/**
 * The node agent: makes one node match the intents. Order: nftables first (one atomic
 * transaction, so there is never an allow-all window), then tc, then routes. Remembers
 * what it applied, so a reconcile changes only the difference (set elements when only
 * pods churn, tc for the pods whose figures or interface changed) and a drift check can
 * repair what someone changed behind its back. A failure keeps the last good state.
 */
import { diag, hasErrors, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Ir } from '../ir/types.js';
import type { Inventory } from '../inventory/index.js';
import { canonicalJson } from '../ir/canonical.js';
import { applyNftScript } from '../backends/nftables/apply.js';
import { renderNodeRuleset, renderNodeUpdate } from '../backends/nftables/index.js';
import { renderTcPlan, type PodShaping } from '../backends/tc/index.js';
import { NODE_TABLE, renderEgressPlan, renderEgressRoutes, renderNodeTable, type EgressPlan } from '../backends/egress/index.js';
import { runTool, type HostOptions } from './exec.js';
import { readNetSnapshot, resolveHostInterfaces } from './interfaces.js';
import { podInterfaces } from './plan.js';
import { applyEgressRoutes, findUplink } from './routes.js';
import { TcEdge } from './tc.js';

export interface AgentOptions extends HostOptions {
  node: string;
  log?: (line: string) => void;
  /** Active gateway of an egress gateway (health checks); default: the first candidate. */
  activeGateway?: (gw: EgressPlan['gateways'][number]) => string | undefined;
}

export interface ApplyReport {
  ok: boolean;
  nft: 'full' | 'elements' | 'none' | 'failed';
  nodeTable: 'applied' | 'none' | 'failed';
  tc: { applied: string[]; removed: string[]; skipped: string[]; failed: string[] };
  routes: string[];
  diagnostics: Diagnostic[];
}

interface AppliedShaping {
  s: PodShaping;
  dev: string;
}

export class NodeAgent {
  readonly tcEdge: TcEdge;
  private irKey: string | undefined;
  private ir: Ir | undefined;
  private inventory: Inventory | undefined;
  private nftListing: string | undefined;
  private nodeScript: string | undefined;
  private nodeListing: string | undefined;
  private readonly shaped = new Map<string, AppliedShaping>();
  private cleanedUp = false;
  private egress: EgressPlan | undefined;

  constructor(private readonly opts: AgentOptions) {
    this.tcEdge = new TcEdge(opts);
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  private listTable(table: string): Promise<string> {
    // -s: without counters, so a listing changes only when the rules do.
    return runTool(['nft', '-s', 'list', 'table', 'inet', table], this.opts).then((r) => (r.ok ? r.stdout : ''));
  }

  private activeMap(egress: EgressPlan): Map<string, string | undefined> {
    return new Map(egress.gateways.map((g) => [g.id, this.opts.activeGateway ? this.opts.activeGateway(g) : g.candidates[0]?.node]));
  }

  async apply(ir: Ir, inventory: Inventory): Promise<ApplyReport> {
    const node = this.opts.node;
    const report: ApplyReport = { ok: true, nft: 'none', nodeTable: 'none', tc: { applied: [], removed: [], skipped: [], failed: [] }, routes: [], diagnostics: [] };
    const fail = (what: string, why: string): void => {
      report.ok = false;
      report.diagnostics.push(diag('NI8203', undefined, [node, what, why]));
    };

    // 1. nftables: element update when only pods churned, else the whole table; atomic either way.
    const irKey = canonicalJson(ir);
    const update = this.irKey === irKey && this.inventory && this.nftListing !== undefined ? renderNodeUpdate(this.inventory, inventory, ir, node) : { kind: 'full' as const, ...renderNodeRuleset(ir, inventory, node) };
    report.diagnostics.push(...update.diagnostics);
    if (hasErrors(update.diagnostics)) return { ...report, ok: false };
    if (update.kind !== 'none') {
      const r = await applyNftScript(update.script, this.opts);
      if (!r.ok) {
        fail(`nft (${update.kind})`, r.stderr.trim());
        return { ...report, nft: 'failed' };
      }
    }
    report.nft = update.kind;
    this.ir = ir;
    this.irKey = irKey;
    this.inventory = inventory;
    const nftListed = update.kind === 'none' && this.nftListing !== undefined ? Promise.resolve(this.nftListing) : this.listTable('netintent');

    // 2. The agent's own table (anti-spoofing, gateway marks, SNAT): needs the pods' interfaces.
    const tc = renderTcPlan(ir, inventory, node);
    const egress = renderEgressPlan(ir, inventory, node);
    report.diagnostics.push(...tc.diagnostics, ...egress.diagnostics);
    this.egress = egress.plan;
    const localIps = inventory.pods.filter((p) => p.nodeName === node && !p.hostNetwork && p.ips.length).map((p) => p.ips[0]!);
    const hostIf = resolveHostInterfaces(await readNetSnapshot(this.opts), localIps);
    const active = this.activeMap(egress.plan);
    const nodeScript = renderNodeTable({ egress: egress.plan, active, interfaces: podInterfaces(inventory, node, hostIf) });
    if (nodeScript !== this.nodeScript) {
      const r = await applyNftScript(nodeScript, this.opts);
      if (r.ok) {
        this.nodeScript = nodeScript;
        this.nodeListing = await this.listTable(NODE_TABLE);
        report.nodeTable = 'applied';
      } else {
        fail(`nft (table ${NODE_TABLE})`, r.stderr.trim());
        report.nodeTable = 'failed';
      }
    }

    // 3. tc: only pods whose figures or interface changed; a vanished pod is skipped.
    await this.applyShaping(tc.plan.pods, hostIf, report);

    // 4. Routes and egress IPs.
    await this.applyRoutes(egress.plan, active, report);

    this.nftListing = await nftListed;
    return report;
  }

  private async applyShaping(pods: readonly PodShaping[], hostIf: ReadonlyMap<string, string>, report: ApplyReport): Promise<void> {
    const o = await this.tcEdge.observe();
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
    const stale = new Set<string>();
    for (const [pod, a] of this.shaped) if (!pods.some((s) => s.pod === pod && hostIf.get(s.ips[0]!) === a.dev)) stale.add(a.dev);
    if (!this.cleanedUp) for (const dev of this.tcEdge.shapedDevices(o)) stale.add(dev);
    for (const dev of [...stale].filter((d) => !planned.has(d)).sort()) {
      const r = await this.tcEdge.removeDevice(dev, o);
      if (r.ok || /Cannot find device/.test(r.error ?? '')) report.tc.removed.push(dev);
      else report.diagnostics.push(diag('NI8203', undefined, [this.opts.node, `removing shaping from ${dev}`, r.error ?? '']));
    }
    for (const [pod, a] of this.shaped) if (!planned.has(a.dev) || !pods.some((s) => s.pod === pod)) this.shaped.delete(pod);
    this.cleanedUp = true;

    const results = await this.tcEdge.applyPods(todo, o);
    const links = new Set((await readNetSnapshot(this.opts)).links.map((l) => l.ifname));
    for (const { s, dev } of todo) {
      const r = results.get(dev)!;
      for (const k of r.missing) report.diagnostics.push(diag('NI8204', undefined, [this.opts.node, k, k === 'netem' ? 'latency, jitter and loss are not applied' : 'a short bfifo is the leaf queue instead']));
      if (r.ok) {
        this.shaped.set(s.pod, { s, dev });
        report.tc.applied.push(s.pod);
        continue;
      }
      if (!links.has(dev)) {
        report.tc.skipped.push(s.pod); // the pod went away while we applied: not an error
        this.shaped.delete(s.pod);
        continue;
      }
      report.ok = false;
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
    const nodeAddrs = this.inventory?.nodes.find((n) => n.name === this.opts.node)?.addresses ?? [];
    const uplink = want.addresses.length ? await findUplink(nodeAddrs, this.opts) : undefined;
    const r = await applyEgressRoutes(want, uplink, this.opts);
    report.routes.push(...r.changes);
    for (const e of r.errors) {
      report.ok = false;
      report.diagnostics.push(diag('NI8203', undefined, [this.opts.node, 'routing', e]));
    }
  }

  /** Re-decides the active gateways (after a health change) and applies what follows. */
  async gatewaysChanged(): Promise<ApplyReport | undefined> {
    if (!this.ir || !this.inventory) return undefined;
    this.nodeScript = undefined; // re-render the table with the new active gateways
    return this.apply(this.ir, this.inventory);
  }

  /**
   * Compares the kernel with what was applied and repairs the difference: both nft
   * tables, every shaped pod, the routes. Returns what it repaired.
   */
  async checkDrift(): Promise<{ repaired: string[]; report?: ApplyReport }> {
    if (!this.ir || !this.inventory) return { repaired: [] };
    const repaired: string[] = [];
    const [main, own] = await Promise.all([this.listTable('netintent'), this.listTable(NODE_TABLE)]);
    if (main !== this.nftListing) {
      repaired.push('table inet netintent');
      this.nftListing = undefined; // forces a full replace
    }
    if (own !== this.nodeListing) {
      repaired.push(`table inet ${NODE_TABLE}`);
      this.nodeScript = undefined;
    }
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

  get egressPlan(): EgressPlan | undefined {
    return this.egress;
  }
}
