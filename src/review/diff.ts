/**
 * `diffIntents`: pure comparison of two compiled versions of the intents for review.
 *
 * Connectivity approach: both versions are evaluated by the reference evaluator over one
 * shared list of endpoints (pod equivalence classes with an inventory, one synthetic
 * representative per group without). Only pairs that a changed rule or NetworkPolicy can
 * touch are evaluated: a pair that no changed rule matches in either version meets the
 * same unchanged rules in the same order, so its verdict cannot differ. Changes are then
 * summarised per (source group/namespace, destination group/namespace, port interval),
 * naming the rule that decided before and after, with file:line.
 */
import type { Verdict } from '../explain/index.js';
import { canonicalJson } from '../ir/canonical.js';
import { matchesSelector } from '../ir/selector.js';
import { ANY_GROUP_ID, IR_VERSION, type Ir, type IrPort, type IrRule } from '../ir/types.js';
import type { Inventory } from '../inventory/index.js';
import { decide, mergeIntervals, portIntervalLabel, portsOf, probeIntervals, VersionModel, type Outcome, type PortInterval, type Side } from './connectivity.js';
import { groupEndpoints, podClasses, type EndpointSet } from './endpoints.js';
import {
  DIFF_REPORT_VERSION,
  type ConnectionChange,
  type DiagnosticView,
  type DiffInput,
  type DiffReport,
  type ElementChange,
  type EndpointRef,
  type RuleChange,
  type RuleView,
} from './types.js';

/** Above this many endpoint pairs the connectivity section stops (and says so). */
export const MAX_PAIRS = 2_000_000;

const RULE_FIELDS = ['action', 'ports', 'from', 'to', 'tier', 'priority', 'log', 'l7', 'l4Only'] as const;

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function emptyIr(): Ir {
  return { version: IR_VERSION, clusters: [], tenants: [], groups: [], rules: [], networkPolicies: [], pools: [], fixedIps: [], egressGateways: [], rateLimits: [], sources: {} };
}

export function sourceOf(ir: Ir, id: string): string | undefined {
  const ref = ir.sources[id]?.[0];
  return ref ? `${ref.file}:${ref.line}` : undefined;
}

export function portLabel(p: IrPort): string {
  if (p.protocol === 'any') return 'any';
  if (p.protocol === 'icmp' || p.protocol === 'icmpv6') return p.icmpType === undefined ? p.protocol : `${p.protocol} type ${p.icmpType}${p.icmpCode !== undefined ? ` code ${p.icmpCode}` : ''}`;
  if (p.name !== undefined) return `${p.protocol}/${p.name}`;
  if (p.port === undefined) return `${p.protocol}/*`;
  return p.endPort !== undefined && p.endPort !== p.port ? `${p.protocol}/${p.port}-${p.endPort}` : `${p.protocol}/${p.port}`;
}

const groupName = (id: string): string => (id.startsWith('group:') ? id.slice('group:'.length) : id);

export function ruleView(ir: Ir, r: IrRule): RuleView {
  const source = sourceOf(ir, r.id);
  return {
    id: r.id,
    policy: r.policy,
    tier: r.tier,
    priority: r.priority,
    action: r.action,
    from: r.from.map(groupName),
    to: r.to.map(groupName),
    ports: r.ports.length ? r.ports.map(portLabel) : ['any'],
    ...(source ? { source } : {}),
  };
}

function diffRules(base: Ir, head: Ir): DiffReport['rules'] {
  const before = new Map(base.rules.map((r) => [r.id, r]));
  const after = new Map(head.rules.map((r) => [r.id, r]));
  const added = head.rules.filter((r) => !before.has(r.id)).map((r) => ruleView(head, r));
  const removed = base.rules.filter((r) => !after.has(r.id)).map((r) => ruleView(base, r));
  const changed: RuleChange[] = [];
  for (const h of head.rules) {
    const b = before.get(h.id);
    if (!b) continue;
    const fields = RULE_FIELDS.filter((f) => b[f] !== h[f] && (typeof b[f] !== 'object' || canonicalJson(b[f]) !== canonicalJson(h[f])));
    if (fields.length) changed.push({ id: h.id, fields: [...fields], before: ruleView(base, b), after: ruleView(head, h) });
  }
  const byId = <T extends { id: string }>(a: T, b: T): number => cmp(a.id, b.id);
  return { added: added.sort(byId), removed: removed.sort(byId), changed: changed.sort(byId) };
}

/** Added, removed and changed elements by id; `fields` names the changed top-level keys. */
function diffElements<T extends { id: string }>(base: Ir, head: Ir, pick: (ir: Ir) => readonly T[]): ElementChange[] {
  const before = new Map(pick(base).map((e) => [e.id, e]));
  const after = new Map(pick(head).map((e) => [e.id, e]));
  const out: ElementChange[] = [];
  for (const id of [...new Set([...before.keys(), ...after.keys()])].sort(cmp)) {
    const b = before.get(id);
    const a = after.get(id);
    const source = sourceOf(a ? head : base, id);
    const extra = source ? { source } : {};
    if (!b) out.push({ id, change: 'added', fields: [], after: a, ...extra });
    else if (!a) out.push({ id, change: 'removed', fields: [], before: b, ...extra });
    else {
      const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort(cmp);
      const fields = keys.filter((k) => canonicalJson((b as Record<string, unknown>)[k]) !== canonicalJson((a as Record<string, unknown>)[k]));
      if (fields.length) out.push({ id, change: 'changed', fields, before: b, after: a, ...extra });
    }
  }
  return out;
}

function diagnosticView(d: DiffInput['diagnostics'][number]): DiagnosticView {
  return { code: d.code, severity: d.severity, message: d.message, ...(d.span ? { file: d.span.file, line: d.span.start.line } : {}) };
}

function diffDiagnostics(base: DiffInput, head: DiffInput): DiffReport['diagnostics'] {
  // Line numbers move with unrelated edits: match by code, message and file.
  const key = (d: DiagnosticView): string => `${d.code}\u0000${d.message}\u0000${d.file ?? ''}`;
  const b = base.diagnostics.map(diagnosticView);
  const h = head.diagnostics.map(diagnosticView);
  const bKeys = new Set(b.map(key));
  const hKeys = new Set(h.map(key));
  const order = (x: DiagnosticView, y: DiagnosticView): number => cmp(x.file ?? '', y.file ?? '') || (x.line ?? 0) - (y.line ?? 0) || cmp(x.code, y.code) || cmp(x.message, y.message);
  return { new: h.filter((d) => !bKeys.has(key(d))).sort(order), resolved: b.filter((d) => !hKeys.has(key(d))).sort(order) };
}

// ---------------------------------------------------------------- connectivity

interface RawChange {
  src: number;
  dst: number;
  port: PortInterval;
  before: Outcome;
  after: Outcome;
}

/** Endpoint pairs (src * n + dst) that a changed rule or NetworkPolicy can reach, sorted. */
function candidatePairs(base: VersionModel, head: VersionModel, set: EndpointSet, changedRules: ReadonlySet<string>): { pairs: number[]; capped: boolean } {
  const n = set.endpoints.length;
  const all = set.endpoints.map((_, i) => i);
  const pairs = new Set<number>();
  let capped = false;
  const add = (from: readonly number[], to: readonly number[]): void => {
    for (const s of from) {
      for (const d of to) {
        if (pairs.size >= MAX_PAIRS) {
          capped = true;
          return;
        }
        pairs.add(s * n + d);
      }
    }
  };
  const membersOf = (side: { any: boolean; members: readonly number[] }): readonly number[] => (side.any ? all : side.members);
  const addRule = (model: VersionModel, index: number): void => {
    const sides = model.ruleSides(index);
    add(membersOf(sides.from), membersOf(sides.to));
  };
  const sameSide = (a: { any: boolean; members: readonly number[] }, b: { any: boolean; members: readonly number[] }): boolean =>
    a.any === b.any && a.members.length === b.members.length && a.members.every((m, i) => m === b.members[i]);
  const baseIndex = new Map(base.ir.rules.map((r, i) => [r.id, i]));
  const headIndex = new Map(head.ir.rules.map((r, i) => [r.id, i]));
  for (const id of new Set([...baseIndex.keys(), ...headIndex.keys()])) {
    const bi = baseIndex.get(id);
    const hi = headIndex.get(id);
    const changed =
      bi === undefined ||
      hi === undefined ||
      changedRules.has(id) ||
      !sameSide(base.ruleSides(bi).from, head.ruleSides(hi).from) ||
      !sameSide(base.ruleSides(bi).to, head.ruleSides(hi).to);
    if (!changed) continue;
    if (bi !== undefined) addRule(base, bi);
    if (hi !== undefined) addRule(head, hi);
  }
  const npBefore = new Map(base.ir.networkPolicies.map((np) => [np.id, np]));
  const npAfter = new Map(head.ir.networkPolicies.map((np) => [np.id, np]));
  for (const id of new Set([...npBefore.keys(), ...npAfter.keys()])) {
    const b = npBefore.get(id);
    const a = npAfter.get(id);
    if (b && a && canonicalJson(b) === canonicalJson(a)) continue;
    for (const np of [b, a]) {
      if (!np) continue;
      const selected = all.filter((i) => {
        const pod = set.endpoints[i]!.pod;
        return pod !== undefined && pod.namespace === np.namespace && matchesSelector(np.podSelector, pod.labels);
      });
      add(all, selected);
      add(selected, all);
    }
  }
  return { pairs: [...pairs].sort((a, b) => a - b), capped };
}

type PairOutcome = { port: PortInterval; value: { before: Outcome; after: Outcome } };

/**
 * The changed port intervals of one endpoint pair. Without NetworkPolicies in play, the
 * evaluator's answer depends only on the narrowed rule lists (they hold exactly the rules
 * whose sides contain both endpoints) and the destination's named ports, so pairs with the
 * same lists share one evaluation (`memo`).
 */
function pairChanges(base: VersionModel, head: VersionModel, set: EndpointSet, src: number, dst: number, memo: Map<string, PairOutcome[]>): RawChange[] {
  const nb = base.narrowed(src, dst);
  const nh = head.narrowed(src, dst);
  const s = set.endpoints[src]!;
  const d = set.endpoints[dst]!;
  const key =
    nb.netpols.length || nh.netpols.length
      ? undefined
      : `${nb.rules.map((r) => r.id).join(',')}|${nh.rules.map((r) => r.id).join(',')}|${d.pod?.ports.map((p) => `${p.name ?? ''}/${p.protocol}/${p.port}`).join(',') ?? ''}`;
  let changed = key === undefined ? undefined : memo.get(key);
  if (!changed) {
    const probes = probeIntervals([...portsOf(nb.rules, nb.netpols), ...portsOf(nh.rules, nh.netpols)], d);
    const outcomes = probes.map((port) => ({ port, value: { before: decide(nb, s, d, port), after: decide(nh, s, d, port) } }));
    const same = (x: { before: Outcome; after: Outcome }, y: { before: Outcome; after: Outcome }): boolean =>
      x.before.verdict === y.before.verdict && x.after.verdict === y.after.verdict && x.before.by.id === y.before.by.id && x.after.by.id === y.after.by.id;
    changed = mergeIntervals(outcomes, same).filter((o) => o.value.before.verdict !== o.value.after.verdict);
    if (key !== undefined) memo.set(key, changed);
  }
  return changed.map((o) => ({ src, dst, port: o.port, before: o.value.before, after: o.value.after }));
}

/**
 * Names an endpoint as the deciding rule sees it: the rule's group that holds it (for an
 * address outside the cluster: its CIDR cell), `any` for an `any` side, else its namespace
 * (or "outside the cluster"): as specific as the rules make the difference, no more.
 */
function endpointRef(level: DiffReport['level'], model: VersionModel, set: EndpointSet, deciderId: string, side: 'from' | 'to', index: number): EndpointRef {
  const e = set.endpoints[index]!;
  const tenant = e.namespace ? model.tenantOf(e.namespace) : undefined;
  const withTenant = (ref: EndpointRef): EndpointRef => (tenant ? { ...ref, tenant } : ref);
  if (level === 'groups' && e.kind !== 'external') return withTenant({ label: e.label, kind: 'group' });
  const rule = model.ruleById(deciderId);
  if (rule) {
    const ids = rule[side];
    if (ids.includes(ANY_GROUP_ID)) return { label: 'any', kind: 'any' };
    for (const id of [...ids].sort(cmp)) {
      if (groupName(id).startsWith('~') || !model.sideContains(model.side([id]), index)) continue;
      if (e.kind === 'external') return { label: e.label, kind: e.key === 'external:any' ? 'any' : 'external' };
      return withTenant({ label: groupName(id), kind: 'group' });
    }
  }
  return e.kind === 'external' ? { label: 'outside the cluster', kind: 'any' } : withTenant({ label: e.namespace!, kind: 'namespace' });
}

/** One protocol's changed intervals as one label; mostly-open ranges read as "all except". */
function portsLabel(intervals: readonly PortInterval[], portNames?: ReadonlyMap<string, string>): string {
  const sorted = [...intervals].sort((a, b) => a.lo - b.lo);
  const protocol = sorted[0]!.protocol;
  const text = (i: PortInterval): string => (i.lo === i.hi && portNames?.get(`${protocol}/${i.lo}`)) || portIntervalLabel(i);
  if (protocol === 'icmp' || protocol === 'icmpv6') return sorted.map(portIntervalLabel).join(', ');
  const covered = sorted.reduce((n, i) => n + i.hi - i.lo + 1, 0);
  if (covered < 32768 || covered === 65535) return sorted.map(text).join(', ');
  const holes: PortInterval[] = [];
  let next = 1;
  for (const i of [...sorted, { protocol, lo: 65536, hi: 65536 }]) {
    if (i.lo > next) holes.push({ protocol, lo: next, hi: i.lo - 1 });
    next = i.hi + 1;
  }
  return `${protocol}/* except ${holes.map((h) => text(h).replace(`${protocol}/`, '')).join(', ')}`;
}

interface Line {
  tenant: string;
  from: EndpointRef;
  to: EndpointRef;
  port: string;
  order: string;
  before: Outcome;
  after: Outcome;
  /** Endpoint pairs (src * n + dst) behind the line. */
  pairs: Set<number>;
  /** Namespaces behind a namespace-level side, once lines merge. */
  names: { from: Set<string>; to: Set<string> };
}

/** Several namespaces as one label (the first few named). */
function namespaceList(names: ReadonlySet<string>): string {
  const sorted = [...names].sort(cmp);
  return sorted.length <= 6 ? sorted.join(', ') : `${sorted.slice(0, 5).join(', ')} and ${sorted.length - 5} more namespaces`;
}

/**
 * Raw changes → lines: per endpoint pair its changed ports become one label; pairs with the
 * same labels, ports, verdicts and deciders share a line; then lines that differ only in a
 * namespace-level side (no rule names a group there) merge into one line listing them.
 */
function summarise(level: DiffReport['level'], base: VersionModel, head: VersionModel, set: EndpointSet, raw: readonly RawChange[]): ConnectionChange[] {
  const n = set.endpoints.length;
  const perPair = new Map<string, RawChange[]>();
  for (const c of raw) {
    const key = [c.src, c.dst, c.port.protocol, c.before.verdict, c.after.verdict, c.before.by.id, c.after.by.id].join('\u0000');
    perPair.set(key, [...(perPair.get(key) ?? []), c]);
  }
  const specific = (r: EndpointRef): boolean => r.kind === 'group' || r.kind === 'external';
  let lines = new Map<string, Line>();
  for (const changes of perPair.values()) {
    const c = changes[0]!;
    // Label by the group the deciding rule names: the new decider's, else the old one's.
    const ref = (side: 'from' | 'to', index: number): EndpointRef => {
      const now = endpointRef(level, head, set, c.after.by.id, side, index);
      if (specific(now)) return now;
      const then = endpointRef(level, base, set, c.before.by.id, side, index);
      return specific(then) ? then : now;
    };
    const from = ref('from', c.src);
    const to = ref('to', c.dst);
    const port = portsLabel(changes.map((x) => x.port), set.portNames);
    const tenant = to.tenant ?? from.tenant ?? '';
    const key = [tenant, from.label, to.label, port, c.before.verdict, c.after.verdict, c.before.by.id, c.after.by.id].join('\u0000');
    const names = { from: new Set(from.kind === 'namespace' ? [from.label] : []), to: new Set(to.kind === 'namespace' ? [to.label] : []) };
    const line = lines.get(key) ?? { tenant, from, to, port, order: `${c.port.protocol}\u0000${String(c.port.lo + 1).padStart(6, '0')}`, before: c.before, after: c.after, pairs: new Set<number>(), names };
    line.pairs.add(c.src * n + c.dst);
    lines.set(key, line);
  }
  for (const side of ['from', 'to'] as const) {
    const merged = new Map<string, Line>();
    for (const line of lines.values()) {
      const other = side === 'from' ? line.to : line.from;
      const mergeable = line[side].kind === 'namespace';
      const key = [line.tenant, mergeable ? '\u0001' : line[side].label, other.label, line.port, line.before.verdict, line.after.verdict, line.before.by.id, line.after.by.id].join('\u0000');
      const known = merged.get(key);
      if (!known) merged.set(key, { ...line, pairs: new Set(line.pairs), names: { from: new Set(line.names.from), to: new Set(line.names.to) } });
      else {
        for (const name of line.names[side]) known.names[side].add(name);
        const tenant = known[side].tenant === line[side].tenant ? line[side].tenant : undefined;
        known[side] = { label: namespaceList(known.names[side]), kind: 'namespace', ...(tenant ? { tenant } : {}) };
        for (const p of line.pairs) known.pairs.add(p);
      }
    }
    lines = merged;
  }
  const podPairs = (pairs: ReadonlySet<number>): number => {
    let total = 0;
    for (const p of pairs) total += set.endpoints[Math.floor(p / n)]!.pods * set.endpoints[p % n]!.pods;
    return total;
  };
  return [...lines.values()]
    .sort((a, b) => cmp(a.tenant, b.tenant) || cmp(a.from.label, b.from.label) || cmp(a.to.label, b.to.label) || cmp(a.order, b.order) || cmp(a.port, b.port) || cmp(a.after.by.id, b.after.by.id) || cmp(a.before.by.id, b.before.by.id))
    .map((l) => ({ tenant: l.tenant, from: l.from, to: l.to, port: l.port, before: l.before.verdict, after: l.after.verdict, beforeBy: l.before.by, afterBy: l.after.by, podPairs: podPairs(l.pairs) }));
}

function diffConnectivity(base: Ir, head: Ir, inventory: Inventory | undefined, changedRules: ReadonlySet<string>): { level: DiffReport['level']; changes: ConnectionChange[]; notes: string[] } {
  const level = inventory ? 'pods' : 'groups';
  const set = inventory ? podClasses(inventory, [base, head]) : groupEndpoints([base, head]);
  const shared = new Map<string, Side>();
  const baseModel = new VersionModel(base, set, shared);
  const headModel = new VersionModel(head, set, shared);
  const { pairs, capped } = candidatePairs(baseModel, headModel, set, changedRules);
  const n = set.endpoints.length;
  const raw: RawChange[] = [];
  const memo = new Map<string, PairOutcome[]>();
  for (const p of pairs) raw.push(...pairChanges(baseModel, headModel, set, Math.floor(p / n), p % n, memo));
  const notes = [...set.notes];
  if (capped) notes.push(`connectivity: more than ${MAX_PAIRS} endpoint pairs are touched by the changes; only the first ${MAX_PAIRS} were evaluated`);
  return { level, changes: summarise(level, baseModel, headModel, set, raw), notes };
}

const isOpen = (v: Verdict): boolean => v === 'allow';

export function diffIntents(base: DiffInput, head: DiffInput, inventory?: Inventory): DiffReport {
  const notes: string[] = [];
  if (!base.ir) notes.push('BASE did not compile: its intents count as empty');
  if (!head.ir) notes.push('HEAD did not compile: its intents count as empty');
  const b = base.ir ?? emptyIr();
  const h = head.ir ?? emptyIr();
  const rules = diffRules(b, h);
  const tenants = diffElements(b, h, (ir) => ir.tenants);
  const groups = diffElements(b, h, (ir) => ir.groups);
  const networkPolicies = diffElements(b, h, (ir) => ir.networkPolicies);
  // Verdicts depend only on rules, groups, tenants and NetworkPolicies: unchanged, skip the evaluation.
  const verdictsMayChange = rules.added.length + rules.removed.length + rules.changed.length + tenants.length + groups.length + networkPolicies.length > 0;
  const connectivity = verdictsMayChange
    ? diffConnectivity(b, h, inventory, new Set(rules.changed.map((c) => c.id)))
    : { level: inventory ? ('pods' as const) : ('groups' as const), changes: [], notes: [] };
  const report: Omit<DiffReport, 'summary'> = {
    version: DIFF_REPORT_VERSION,
    level: connectivity.level,
    rules,
    connectivity: connectivity.changes,
    tenants,
    groups,
    pools: diffElements(b, h, (ir) => ir.pools),
    fixedIps: diffElements(b, h, (ir) => ir.fixedIps),
    rateLimits: diffElements(b, h, (ir) => ir.rateLimits),
    egressGateways: diffElements(b, h, (ir) => ir.egressGateways),
    networkPolicies,
    diagnostics: diffDiagnostics(base, head),
    notes: [...notes, ...connectivity.notes],
  };
  const counts = {
    rulesAdded: rules.added.length,
    rulesRemoved: rules.removed.length,
    rulesChanged: rules.changed.length,
    connectionsChanged: report.connectivity.length,
    tenants: report.tenants.length,
    groups: report.groups.length,
    pools: report.pools.length,
    fixedIps: report.fixedIps.length,
    rateLimits: report.rateLimits.length,
    egressGateways: report.egressGateways.length,
    networkPolicies: report.networkPolicies.length,
    diagnosticsNew: report.diagnostics.new.length,
    diagnosticsResolved: report.diagnostics.resolved.length,
  };
  const total = Object.values(counts).reduce((x, y) => x + y, 0);
  return {
    ...report,
    summary: {
      ...counts,
      connectionsOpened: report.connectivity.filter((c) => isOpen(c.after) && !isOpen(c.before)).length,
      connectionsClosed: report.connectivity.filter((c) => isOpen(c.before) && !isOpen(c.after)).length,
      total,
    },
  };
}

/** Whether a report shows any change (the CLI's exit code 3). */
export function hasChanges(report: DiffReport): boolean {
  return report.summary.total > 0;
}
