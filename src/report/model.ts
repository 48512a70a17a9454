/**
 * What the static report shows, computed from the IR and the inventory: a connectivity
 * matrix over pod classes (the review module's equivalence classes, decided by the
 * reference evaluator), the group graph, IP pool usage and rate limits.
 */
import type { Verdict } from '../explain/index.js';
import { ANY_GROUP_ID, type Ir, type IrGroup, type IrPort } from '../ir/types.js';
import type { Inventory } from '../inventory/index.js';
import { familyOf, ipToBigInt } from '../ir/address.js';
import { decide, groupLabel, podClasses, portLabel, ruleView, sourceOf, VersionModel, type PortInterval, type RuleView } from '../review/index.js';
import { tenantOfNamespace } from '../ir/selector.js';

/** Caps that keep the page readable (and its size bounded). */
const MAX_MATRIX_CLASSES = 40;
const MAX_MATRIX_PORTS = 12;
const MAX_GRAPH_NODES = 150;

export interface MatrixAxis {
  key: string;
  label: string;
  namespace: string;
  tenant?: string;
  pods: number;
}

export interface MatrixCellModel {
  verdict: Verdict;
  /** Rule id, NetworkPolicy id(s), or `default`. */
  by: string;
  source?: string;
}

export interface PortMatrix {
  port: string;
  /** cells[from][to] */
  cells: MatrixCellModel[][];
}

export interface GraphNode {
  id: string;
  label: string;
  tenant?: string;
}

export interface GraphEdge {
  from: string;
  to: string;
  action: string;
  rule: string;
}

export interface PoolUsage {
  id: string;
  name: string;
  tenant?: string;
  size: number;
  used: number;
  ranges: string[];
  source?: string;
}

export interface ReportModel {
  axis: MatrixAxis[];
  matrices: PortMatrix[];
  rules: RuleView[];
  networkPolicies: { id: string; namespace: string; name: string; source?: string }[];
  graph: { nodes: GraphNode[]; edges: GraphEdge[] };
  pools: PoolUsage[];
  rateLimits: { id: string; name: string; pods: string[]; ingressBps?: number; egressBps?: number; latencyUs?: number; jitterUs?: number; lossPercent?: number; source?: string }[];
  notes: string[];
}

/** Probe points for the matrix: the first port of every distinct port spec of the rules. */
function matrixPorts(ir: Ir): { label: string; probe: PortInterval }[] {
  const specs: IrPort[] = [...ir.rules.flatMap((r) => r.ports), ...ir.networkPolicies.flatMap((np) => [...np.ingress, ...np.egress].flatMap((r) => r.ports ?? []))];
  const out = new Map<string, PortInterval>();
  for (const s of specs) {
    if (s.protocol === 'any' || s.name !== undefined) continue;
    if (s.protocol === 'icmp' || s.protocol === 'icmpv6') out.set(portLabel(s), { protocol: s.protocol, lo: s.icmpType ?? -1, hi: s.icmpType ?? -1 });
    else if (s.port !== undefined) out.set(portLabel(s), { protocol: s.protocol, lo: s.port, hi: s.port });
  }
  if (!out.size) out.set('tcp/80', { protocol: 'tcp', lo: 80, hi: 80 });
  // By protocol, then port number (locale-independent).
  return [...out]
    .sort(([a, x], [b, y]) => (x.protocol < y.protocol ? -1 : x.protocol > y.protocol ? 1 : x.lo - y.lo || (a < b ? -1 : a > b ? 1 : 0)))
    .map(([label, probe]) => ({ label, probe }));
}

function poolUsage(ir: Ir, inventory: Inventory): PoolUsage[] {
  // Addresses per family, sorted once: a pool range's usage is two binary searches.
  const sorted = new Map<number, bigint[]>();
  for (const p of inventory.pods) {
    if (p.hostNetwork) continue;
    for (const ip of [...p.ips, ...p.networks.flatMap((n) => n.ips)]) {
      const list = sorted.get(familyOf(ip)) ?? [];
      list.push(ipToBigInt(ip));
      sorted.set(familyOf(ip), list);
    }
  }
  for (const list of sorted.values()) list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const firstAtLeast = (list: readonly bigint[], v: bigint): number => {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return ir.pools.map((pool) => {
    const list = sorted.get(pool.family) ?? [];
    const used = pool.ranges.reduce((n, r) => n + firstAtLeast(list, ipToBigInt(r.last) + 1n) - firstAtLeast(list, ipToBigInt(r.first)), 0);
    const source = sourceOf(ir, pool.id);
    return { id: pool.id, name: pool.name, ...(pool.tenant ? { tenant: pool.tenant } : {}), size: pool.size, used, ranges: pool.ranges.map((r) => (r.first === r.last ? r.first : `${r.first}–${r.last}`)), ...(source ? { source } : {}) };
  });
}

function groupGraph(ir: Ir, notes: string[]): ReportModel['graph'] {
  const tenantOfGroup = (g: IrGroup): string | undefined => {
    const m = g.members.find((x) => x.kind === 'pods');
    if (!m || m.kind !== 'pods') return undefined;
    if (m.scope.kind === 'tenant') return m.scope.tenant;
    if (m.scope.kind !== 'names') return undefined;
    const ns = m.scope.names[0]!;
    return tenantOfNamespace(ir, { name: ns, labels: { 'kubernetes.io/metadata.name': ns } })?.name;
  };
  const used = new Set(ir.rules.flatMap((r) => [...r.from, ...r.to]));
  const candidates = ir.groups
    // "Everything outside tenant T" (the far side of isolation rules) would only clutter the graph.
    .filter((g) => g.id !== ANY_GROUP_ID && used.has(g.id) && !g.members.every((m) => m.kind === 'pods' && m.scope.kind === 'notTenant'));
  if (candidates.length > MAX_GRAPH_NODES) notes.push(`The graph shows the first ${MAX_GRAPH_NODES} of ${candidates.length} groups that rules name.`);
  const nodes: GraphNode[] = candidates.slice(0, MAX_GRAPH_NODES).map((g) => {
    const tenant = tenantOfGroup(g);
    return { id: g.id, label: groupLabel(g), ...(tenant ? { tenant } : {}) };
  });
  if (used.has(ANY_GROUP_ID)) nodes.push({ id: ANY_GROUP_ID, label: 'any' });
  const shown = new Set(nodes.map((n) => n.id));
  const edges: GraphEdge[] = [];
  for (const r of ir.rules) for (const from of r.from) for (const to of r.to) if (shown.has(from) && shown.has(to)) edges.push({ from, to, action: r.action, rule: r.id });
  return { nodes, edges };
}

export function buildReport(ir: Ir, inventory: Inventory): ReportModel {
  const notes: string[] = [];
  const set = podClasses(inventory, [ir]);
  const classes = set.endpoints.map((e, index) => ({ e, index })).filter(({ e }) => e.kind === 'pods');
  if (classes.length > MAX_MATRIX_CLASSES) notes.push(`The matrix shows the first ${MAX_MATRIX_CLASSES} of ${classes.length} pod classes (pods of one namespace with the same labels).`);
  const shown = classes.slice(0, MAX_MATRIX_CLASSES);
  const ports = matrixPorts(ir);
  if (ports.length > MAX_MATRIX_PORTS) notes.push(`The matrix shows the first ${MAX_MATRIX_PORTS} of ${ports.length} ports.`);
  const model = new VersionModel(ir, set);
  const matrices: PortMatrix[] = ports.slice(0, MAX_MATRIX_PORTS).map(({ label }) => ({ port: label, cells: [] }));
  for (const { e: src, index: s } of shown) {
    const rows = matrices.map(() => [] as MatrixCellModel[]);
    for (const { e: dst, index: d } of shown) {
      const narrowed = model.narrowed(s, d);
      ports.slice(0, MAX_MATRIX_PORTS).forEach(({ probe }, p) => {
        const outcome = decide(narrowed, src, dst, probe);
        rows[p]!.push({ verdict: outcome.verdict, by: outcome.by.id, ...(outcome.by.source ? { source: outcome.by.source } : {}) });
      });
    }
    matrices.forEach((m, p) => m.cells.push(rows[p]!));
  }
  const axis = shown.map(({ e }) => {
    const tenant = tenantOfNamespace(ir, set.namespaces.find((n) => n.name === e.namespace) ?? { name: e.namespace!, labels: {} })?.name;
    return { key: e.key, label: e.label, namespace: e.namespace!, ...(tenant ? { tenant } : {}), pods: e.pods };
  });
  return {
    axis,
    matrices,
    rules: ir.rules.map((r) => ruleView(ir, r)),
    networkPolicies: ir.networkPolicies.map((np) => {
      const source = sourceOf(ir, np.id);
      return { id: np.id, namespace: np.namespace, name: np.name, ...(source ? { source } : {}) };
    }),
    graph: groupGraph(ir, notes),
    pools: poolUsage(ir, inventory),
    rateLimits: ir.rateLimits.map((r) => {
      const source = sourceOf(ir, r.id);
      const { id, name, pods, ingressBps, egressBps, latencyUs, jitterUs, lossPercent } = r;
      return { id, name, pods: pods.map((p) => p.replace(/^group:/, '')), ingressBps, egressBps, latencyUs, jitterUs, lossPercent, ...(source ? { source } : {}) };
    }),
    notes,
  };
}
