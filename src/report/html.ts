/**
 * The report as ONE self-contained HTML page: inline CSS and JS, inline SVG, no network.
 * Every matrix cell carries data-from/data-to/data-port/data-verdict/data-rule and links
 * to the anchor of the rule (or NetworkPolicy, or default) that decided it.
 */
import type { ReportModel } from './model.js';

const esc = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Anchor id of a rule, NetworkPolicy or default: readable and unique (other characters hex-escaped). */
export function anchorId(id: string): string {
  return `d-${id.replace(/[^A-Za-z0-9-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`)}`;
}

const VERDICT_MARK: Record<string, string> = { allow: '✓', deny: '✗', reject: '⊘' };

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1f2328}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #d0d7de;padding:3px 6px;text-align:left;vertical-align:top}
table.matrix td{text-align:center;padding:0;width:22px;height:22px}
table.matrix td a{display:block;color:inherit;text-decoration:none;line-height:22px}
table.matrix th.col{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;font-weight:normal}
table.matrix th.row{white-space:nowrap;font-weight:normal}
td.v-allow{background:#2da44e;color:#fff}td.v-deny{background:#cf222e;color:#fff}td.v-reject{background:#bc4c00;color:#fff}
.legend span{display:inline-block;padding:2px 8px;margin-right:6px;color:#fff}
.bar{background:#eaeef2;width:200px;height:12px;display:inline-block}.bar i{display:block;height:12px;background:#0969da}
tr:target{background:#fff8c5}code{font-size:12px}.note{color:#57606a}
`;

const JS = `
(function(){
  var select=document.getElementById('port');
  function show(){var v=select.value;document.querySelectorAll('table.matrix').forEach(function(t){t.hidden=t.getAttribute('data-port')!==v;});}
  select.addEventListener('change',show);show();
})();
`;

function matrixSection(model: ReportModel): string {
  if (!model.axis.length) return '<p class="note">No pods in the inventory.</p>';
  const options = model.matrices.map((m, i) => `<option value="${esc(m.port)}"${i === 0 ? ' selected' : ''}>${esc(m.port)}</option>`).join('');
  const tables = model.matrices.map((m) => {
    const head = `<tr><th>from \\ to</th>${model.axis.map((a) => `<th class="col" title="${esc(a.label)}">${esc(a.label)}</th>`).join('')}</tr>`;
    const rows = m.cells.map((row, i) => {
      const from = model.axis[i]!;
      const cells = row.map((c, j) => {
        const to = model.axis[j]!;
        const title = `${c.verdict} by ${c.by}${c.source ? ` (${c.source})` : ''}`;
        return `<td class="v-${c.verdict}" data-from="${esc(from.label)}" data-to="${esc(to.label)}" data-port="${esc(m.port)}" data-verdict="${c.verdict}" data-rule="${esc(c.by)}" title="${esc(title)}"><a href="#${anchorId(c.by.split(',')[0]!)}">${VERDICT_MARK[c.verdict] ?? '?'}</a></td>`;
      });
      return `<tr><th class="row" title="${esc(from.label)} (${from.pods} pods)">${esc(from.label)}</th>${cells.join('')}</tr>`;
    });
    return `<table class="matrix" data-port="${esc(m.port)}">${head}${rows.join('')}</table>`;
  });
  return `<p><label>Port <select id="port">${options}</select></label></p>
<p class="legend"><span class="v" style="background:#2da44e">✓ allow</span><span style="background:#cf222e">✗ deny</span><span style="background:#bc4c00">⊘ reject</span> Each cell links to the rule that decided it. Rows and columns are pod classes (pods of one namespace with the same labels).</p>
${tables.join('\n')}`;
}

function graphSection(model: ReportModel): string {
  const { nodes, edges } = model.graph;
  if (!nodes.length) return '<p class="note">No groups.</p>';
  // Circle layout, nodes ordered by tenant so that a tenant's groups sit together.
  const byText = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  const ordered = [...nodes].sort((a, b) => byText(a.tenant ?? '~', b.tenant ?? '~') || byText(a.label, b.label));
  const size = Math.max(360, Math.min(900, 60 * ordered.length));
  const c = size / 2;
  const r = c - 90;
  const at = new Map(ordered.map((n, i) => [n.id, { x: c + r * Math.cos((2 * Math.PI * i) / ordered.length - Math.PI / 2), y: c + r * Math.sin((2 * Math.PI * i) / ordered.length - Math.PI / 2), n }]));
  const tenants = [...new Set(ordered.map((n) => n.tenant ?? ''))];
  const palette = ['#0969da', '#8250df', '#bf8700', '#1a7f37', '#cf222e', '#57606a', '#bc4c00', '#116329'];
  const colour = (t: string | undefined): string => (t ? palette[tenants.indexOf(t) % palette.length]! : '#57606a');
  const f = (v: number): string => v.toFixed(1);
  const lines = edges.flatMap((e) => {
    const a = at.get(e.from);
    const b = at.get(e.to);
    if (!a || !b) return [];
    const stroke = e.action === 'allow' ? '#2da44e' : e.action === 'pass' ? '#57606a' : '#cf222e';
    const dash = e.action === 'allow' ? '' : ' stroke-dasharray="4 3"';
    if (a === b) return [`<circle cx="${f(a.x)}" cy="${f(a.y - 22)}" r="10" fill="none" stroke="${stroke}"${dash}><title>${esc(e.rule)}</title></circle>`];
    return [`<a href="#${anchorId(e.rule)}"><line x1="${f(a.x)}" y1="${f(a.y)}" x2="${f(b.x)}" y2="${f(b.y)}" stroke="${stroke}" stroke-width="1.5"${dash} marker-end="url(#arrow)"><title>${esc(`${e.action} ${a.n.label} → ${b.n.label} (${e.rule})`)}</title></line></a>`];
  });
  const circles = [...at.values()].map(
    ({ x, y, n }) =>
      `<g><circle cx="${f(x)}" cy="${f(y)}" r="9" fill="${colour(n.tenant)}"><title>${esc(n.label)}${n.tenant ? ` (tenant ${esc(n.tenant)})` : ''}</title></circle><text x="${f(x)}" y="${f(y + 24)}" text-anchor="middle" font-size="12">${esc(n.label)}</text></g>`,
  );
  const legend = tenants.map((t) => `<span style="background:${colour(t || undefined)}">${esc(t ? `tenant ${t}` : 'no tenant')}</span>`).join('');
  return `<p class="legend">${legend}</p>
<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}" role="img" aria-label="group graph">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="18" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#57606a"/></marker></defs>
${lines.join('\n')}
${circles.join('\n')}
</svg>
<p class="note">Green: allow rules; red dashed: deny/reject; grey dashed: pass.</p>`;
}

const bps = (v: number | undefined): string => {
  if (v === undefined) return '';
  for (const [unit, n] of [['G', 1e9], ['M', 1e6], ['k', 1e3]] as const) if (v >= n && v % n === 0) return `${v / n}${unit}bit/s`;
  return `${v}bit/s`;
};

export function renderReportHtml(model: ReportModel, title = 'netintent report'): string {
  const ruleRows = model.rules.map(
    (r) =>
      `<tr id="${anchorId(r.id)}"><td><code>${esc(r.id)}</code></td><td>${esc(r.tier)}</td><td>${r.priority}</td><td>${esc(r.action)}</td><td>${esc(r.from.join(', '))}</td><td>${esc(r.to.join(', '))}</td><td>${esc(r.ports.join(', '))}</td><td>${esc(r.source ?? '')}</td></tr>`,
  );
  const deciders = new Set(model.matrices.flatMap((m) => m.cells.flatMap((row) => row.map((c) => c.by.split(',')[0]!))));
  const npRows = model.networkPolicies.map((np) => `<tr id="${anchorId(np.id)}"><td><code>${esc(np.id)}</code></td><td>${esc(np.namespace)}</td><td>${esc(np.name)}</td><td>${esc(np.source ?? '')}</td></tr>`);
  const known = new Set([...model.rules.map((r) => r.id), ...model.networkPolicies.map((n) => n.id)]);
  // Deciders that are not rules: the default (nothing matched) and "not isolated".
  const others = [...deciders].filter((d) => !known.has(d)).sort();
  const otherRows = others.map((d) => `<tr id="${anchorId(d)}"><td><code>${esc(d)}</code></td><td>${d === 'default' ? 'no rule matched: allowed' : d === 'not-isolated' ? 'the side without NetworkPolicies is open' : ''}</td></tr>`);
  const poolRows = model.pools.map((p) => {
    const pct = p.size ? Math.min(100, (100 * p.used) / p.size) : 0;
    return `<tr id="${anchorId(p.id)}"><td><code>${esc(p.name)}</code></td><td>${esc(p.tenant ?? '')}</td><td>${esc(p.ranges.join(', '))}</td><td>${p.used} / ${p.size}</td><td><span class="bar" title="${pct.toFixed(1)}%"><i style="width:${pct.toFixed(1)}%"></i></span></td><td>${esc(p.source ?? '')}</td></tr>`;
  });
  const rateRows = model.rateLimits.map(
    (r) =>
      `<tr id="${anchorId(r.id)}"><td><code>${esc(r.name)}</code></td><td>${esc(r.pods.join(', '))}</td><td>${bps(r.ingressBps)}</td><td>${bps(r.egressBps)}</td><td>${r.latencyUs !== undefined ? `${r.latencyUs / 1000} ms` : ''}</td><td>${r.jitterUs !== undefined ? `${r.jitterUs / 1000} ms` : ''}</td><td>${r.lossPercent !== undefined ? `${r.lossPercent}%` : ''}</td><td>${esc(r.source ?? '')}</td></tr>`,
  );
  const table = (header: string[], rows: string[], empty: string): string =>
    rows.length ? `<table><tr>${header.map((h) => `<th>${h}</th>`).join('')}</tr>\n${rows.join('\n')}\n</table>` : `<p class="note">${empty}</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<style>${CSS}</style></head>
<body>
<h1>${esc(title)}</h1>
${model.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('\n')}
<h2 id="matrix">Connectivity matrix</h2>
${matrixSection(model)}
<h2 id="graph">Tenants and groups</h2>
${graphSection(model)}
<h2 id="pools">IP pools</h2>
${table(['pool', 'tenant', 'ranges', 'used / size', 'usage', 'source'], poolRows, 'No pools.')}
<h2 id="rates">Rate limits</h2>
${table(['rate', 'pods', 'ingress', 'egress', 'latency', 'jitter', 'loss', 'source'], rateRows, 'No rate limits.')}
<h2 id="rules">Rules</h2>
${table(['rule', 'tier', 'priority', 'action', 'from', 'to', 'ports', 'source'], ruleRows, 'No rules.')}
${npRows.length ? `<h2 id="networkpolicies">NetworkPolicies</h2>\n${table(['policy', 'namespace', 'name', 'source'], npRows, '')}` : ''}
${otherRows.length ? `<h2 id="defaults">Defaults</h2>\n${table(['decider', 'meaning'], otherRows, '')}` : ''}
<script>${JS}</script>
</body></html>
`;
}
