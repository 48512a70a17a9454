/**
 * Renderers of a DiffReport: versioned JSON, and Markdown for a pull-request comment
 * (summary first, details folded, a Mermaid graph of the changed connections). GitHub
 * refuses comments over 65,536 characters, so the Markdown shrinks its tables until it
 * fits and says how to get everything.
 */
import { canonicalJson } from '../ir/canonical.js';
import type { ConnectionChange, DiagnosticView, DiffReport, ElementChange, RuleView } from './types.js';

/** Under GitHub's 65,536-character comment limit, with room for a marker line a CI job may prepend. */
export const MARKDOWN_LIMIT = 65_000;
const MERMAID_MAX_EDGES = 150;

export function renderDiffJson(report: DiffReport): string {
  return `${canonicalJson(report, true)}\n`;
}

export interface MarkdownOptions {
  /** The command that prints the full diff as JSON, named in the truncation notice. */
  fullCommand?: string;
  limit?: number;
}

const cell = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/\r?\n/g, ' ');
const code = (text: string): string => (text ? `\`${text.replace(/`/g, "'")}\`` : '');
const clip = (text: string, max = 160): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function table(header: string[], rows: string[][], maxRows: number): { text: string; omitted: number } {
  const shown = rows.slice(0, maxRows);
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...shown.map((r) => `| ${r.map(cell).join(' | ')} |`)];
  const omitted = rows.length - shown.length;
  if (omitted) lines.push(`| … ${omitted} more row${omitted === 1 ? '' : 's'} |${header.slice(1).map(() => ' ').join('|')}|`);
  return { text: lines.join('\n'), omitted };
}

function details(title: string, count: number, body: string, open = false): string {
  return `<details${open ? ' open' : ''}><summary><b>${title}</b> (${count})</summary>\n\n${body}\n\n</details>\n`;
}

const decider = (d: { id: string; source?: string }): string => (d.source ? `${code(d.id)} (${d.source})` : code(d.id));

function connectionRows(lines: readonly ConnectionChange[], level: DiffReport['level']): string[][] {
  return lines.map((c) => [
    c.from.label,
    c.to.label,
    code(c.port),
    `${c.before} → **${c.after}**`,
    decider(c.afterBy),
    decider(c.beforeBy),
    ...(level === 'pods' ? [String(c.podPairs)] : []),
  ]);
}

const ruleRow = (r: RuleView): string[] => [code(r.id), r.tier, String(r.priority), r.action, r.from.join(', '), r.to.join(', '), r.ports.join(', '), r.source ?? ''];
const RULE_HEADER = ['rule', 'tier', 'priority', 'action', 'from', 'to', 'ports', 'source'];

function fieldChange(e: ElementChange): string {
  if (e.change !== 'changed') return clip(canonicalJson(e.after ?? e.before));
  const b = e.before as Record<string, unknown>;
  const a = e.after as Record<string, unknown>;
  return e.fields.map((f) => `${f}: ${clip(canonicalJson(b[f]) ?? '—', 80)} → ${clip(canonicalJson(a[f]) ?? '—', 80)}`).join('; ');
}

const diagRow = (d: DiagnosticView): string[] => [code(d.code), d.severity, d.message, d.file ? `${d.file}:${d.line ?? ''}` : ''];

/** Mermaid node ids are generated; labels carry the names. */
function mermaid(report: DiffReport): { text: string; edges: number; omitted: number } {
  interface Edge {
    from: string;
    to: string;
    opened: boolean;
    ports: string[];
  }
  const edges = new Map<string, Edge>();
  for (const c of report.connectivity) {
    const opened = c.after === 'allow' && c.before !== 'allow';
    const closed = c.before === 'allow' && c.after !== 'allow';
    if (!opened && !closed) continue;
    const key = `${c.from.label}\u0000${c.to.label}\u0000${opened}`;
    const edge = edges.get(key) ?? { from: c.from.label, to: c.to.label, opened, ports: [] };
    if (!edge.ports.includes(c.port)) edge.ports.push(c.port);
    edges.set(key, edge);
  }
  if (!edges.size) return { text: '', edges: 0, omitted: 0 };
  const all = [...edges.values()];
  const shown = all.slice(0, MERMAID_MAX_EDGES);
  const tenantOf = new Map<string, string>();
  for (const c of report.connectivity) {
    for (const e of [c.from, c.to]) if (e.tenant && !tenantOf.has(e.label)) tenantOf.set(e.label, e.tenant);
  }
  const ids = new Map<string, string>();
  const id = (label: string): string => {
    let v = ids.get(label);
    if (!v) ids.set(label, (v = `n${ids.size}`));
    return v;
  };
  for (const e of shown) {
    id(e.from);
    id(e.to);
  }
  const quote = (t: string): string => `"${t.replace(/"/g, '#quot;')}"`;
  const lines = ['```mermaid', 'graph LR'];
  const byTenant = new Map<string, string[]>();
  for (const label of ids.keys()) {
    const t = tenantOf.get(label) ?? '';
    byTenant.set(t, [...(byTenant.get(t) ?? []), label]);
  }
  [...byTenant].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).forEach(([t, labels], i) => {
    if (t) lines.push(`  subgraph t${i}[${quote(`tenant ${t}`)}]`);
    for (const label of labels) lines.push(`${t ? '    ' : '  '}${id(label)}[${quote(label)}]`);
    if (t) lines.push('  end');
  });
  shown.forEach((e) => {
    const text = `${e.opened ? '+' : '−'} ${e.ports.slice(0, 4).join(', ')}${e.ports.length > 4 ? ' …' : ''}`;
    lines.push(`  ${id(e.from)} ${e.opened ? '-->' : '-.->'}|${quote(text)}| ${id(e.to)}`);
  });
  shown.forEach((e, i) => lines.push(`  linkStyle ${i} ${e.opened ? 'stroke:#2da44e,stroke-width:2px' : 'stroke:#cf222e,stroke-width:2px,stroke-dasharray:5 5'}`));
  lines.push('```');
  const omitted = all.length - shown.length;
  return { text: `${lines.join('\n')}\n\n${omitted ? `_${omitted} more edges not drawn._\n` : ''}Green: opened · red dashed: closed.\n`, edges: all.length, omitted };
}

function renderWith(report: DiffReport, maxRows: number): { text: string; omitted: number } {
  const s = report.summary;
  let omitted = 0;
  const t = (header: string[], rows: string[][]): string => {
    const r = table(header, rows, maxRows);
    omitted += r.omitted;
    return r.text;
  };
  const out: string[] = [];
  out.push(`## netintent diff: ${s.total === 0 ? 'no changes' : `${s.total} change${s.total === 1 ? '' : 's'}`}\n`);
  out.push(
    [
      '| what | added | removed | changed |',
      '|---|---:|---:|---:|',
      `| rules | ${s.rulesAdded} | ${s.rulesRemoved} | ${s.rulesChanged} |`,
      `| connections (${report.level === 'pods' ? 'pods, summarised' : 'groups'}) | ${s.connectionsOpened} opened | ${s.connectionsClosed} closed | ${s.connectionsChanged} lines |`,
      ...(
        [
          ['tenants', report.tenants],
          ['groups', report.groups],
          ['IP pools', report.pools],
          ['fixed IPs', report.fixedIps],
          ['rate limits', report.rateLimits],
          ['egress gateways', report.egressGateways],
          ['NetworkPolicies', report.networkPolicies],
        ] as const
      ).map(([name, list]) => `| ${name} | ${list.filter((e) => e.change === 'added').length} | ${list.filter((e) => e.change === 'removed').length} | ${list.filter((e) => e.change === 'changed').length} |`),
      `| diagnostics | ${s.diagnosticsNew} new | ${s.diagnosticsResolved} resolved | |`,
    ].join('\n') + '\n',
  );
  const graph = mermaid(report);
  if (graph.text) out.push(details('Connectivity graph', graph.edges, graph.text, true));

  if (report.connectivity.length) {
    const header = ['from', 'to', 'port', 'verdict', 'decided by (now)', 'decided by (before)', ...(report.level === 'pods' ? ['pod pairs'] : [])];
    const tenants = [...new Set(report.connectivity.map((c) => c.tenant))];
    const body = tenants
      .map((tenant) => `#### ${tenant ? `tenant ${tenant}` : 'no tenant'}\n\n${t(header, connectionRows(report.connectivity.filter((c) => c.tenant === tenant), report.level))}`)
      .join('\n\n');
    out.push(details('Connectivity changes', report.connectivity.length, body));
  }
  const r = report.rules;
  if (r.added.length + r.removed.length + r.changed.length) {
    const parts: string[] = [];
    if (r.added.length) parts.push(`**Added**\n\n${t(RULE_HEADER, r.added.map(ruleRow))}`);
    if (r.removed.length) parts.push(`**Removed**\n\n${t(RULE_HEADER, r.removed.map(ruleRow))}`);
    if (r.changed.length) {
      parts.push(
        `**Changed**\n\n${t(
          ['rule', 'fields', 'before', 'after', 'source'],
          r.changed.map((c) => [code(c.id), c.fields.join(', '), c.fields.map((f) => `${f}: ${fieldOf(c.before, f)}`).join('; '), c.fields.map((f) => `${f}: ${fieldOf(c.after, f)}`).join('; '), c.after.source ?? '']),
        )}`,
      );
    }
    out.push(details('Rules', r.added.length + r.removed.length + r.changed.length, parts.join('\n\n')));
  }
  for (const [title, list] of [
    ['Tenants', report.tenants],
    ['Groups', report.groups],
    ['IP pools', report.pools],
    ['Fixed IPs', report.fixedIps],
    ['Rate limits', report.rateLimits],
    ['Egress gateways', report.egressGateways],
    ['NetworkPolicies', report.networkPolicies],
  ] as const) {
    if (list.length) out.push(details(title, list.length, t(['id', 'change', 'what', 'source'], list.map((e) => [code(e.id), e.change, fieldChange(e), e.source ?? '']))));
  }
  const d = report.diagnostics;
  if (d.new.length) out.push(details('New diagnostics', d.new.length, t(['code', 'severity', 'message', 'where'], d.new.map(diagRow))));
  if (d.resolved.length) out.push(details('Resolved diagnostics', d.resolved.length, t(['code', 'severity', 'message', 'where'], d.resolved.map(diagRow))));
  if (report.notes.length) out.push(`**Notes**\n\n${report.notes.map((n) => `- ${n}`).join('\n')}\n`);
  return { text: out.join('\n'), omitted };
}

function fieldOf(view: RuleView, field: string): string {
  const v: Record<string, string> = {
    action: view.action,
    ports: view.ports.join(', '),
    from: view.from.join(', '),
    to: view.to.join(', '),
    tier: view.tier,
    priority: String(view.priority),
  };
  return v[field] ?? 'see JSON';
}

/** Markdown for a PR comment; never longer than `limit` (65,000 characters by default). */
export function renderDiffMarkdown(report: DiffReport, options: MarkdownOptions = {}): string {
  const limit = options.limit ?? MARKDOWN_LIMIT;
  const full = renderWith(report, Number.MAX_SAFE_INTEGER);
  if (full.text.length <= limit) return full.text;
  const notice = (omitted: number): string =>
    `\n> [!WARNING]\n> **Truncated**: ${omitted} table rows are not shown (GitHub comments hold at most 65,536 characters). ` +
    `For the full diff run \`${options.fullCommand ?? 'netintent diff BASE HEAD --format json'}\`.\n`;
  // The largest per-table row count that still fits with the notice (binary search).
  let lo = 0;
  let hi = Math.max(report.connectivity.length, report.rules.added.length, report.rules.removed.length, report.rules.changed.length, 1);
  let best = renderWith(report, 0);
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const attempt = renderWith(report, mid);
    if (attempt.text.length + notice(attempt.omitted).length <= limit) {
      best = attempt;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  const text = `${best.text}${notice(best.omitted)}`;
  // Pathological inputs (huge element lists, notes) still end under the limit.
  return text.length <= limit ? text : `${text.slice(0, limit - notice(best.omitted).length - 2)}\n${notice(best.omitted)}`;
}
