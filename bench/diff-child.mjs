// Child process of diff.mjs: `netintent diff BASE HEAD --inventory F --format json`, phase by phase,
// with wall time per phase, the process's CPU time and peak RSS.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { compileFiles } from '../dist/src/sources/index.js';
import { loadInventory } from '../dist/src/inventory/index.js';
import { diffIntents, renderDiffJson, renderDiffMarkdown } from '../dist/src/review/index.js';

const [base, head, inventoryFile] = process.argv.slice(2);
const ms = {};
const cpu = {};
const phase = (name, f) => {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const out = f();
  const c = process.cpuUsage(c0);
  ms[name] = Math.round(performance.now() - t0);
  cpu[name] = Math.round((c.user + c.system) / 1000);
  return out;
};
const t0 = performance.now();
const b = phase('compileBase', () => compileFiles([base]));
const h = phase('compileHead', () => compileFiles([head]));
for (const [name, side] of [['BASE', b], ['HEAD', h]]) {
  if (!side.ir) throw new Error(`${name} does not compile: ${side.diagnostics.slice(0, 3).map((d) => d.message).join('; ')}`);
}
const inv = phase('loadInventory', () => loadInventory(inventoryFile, readFileSync(inventoryFile, 'utf8')));
const report = phase('diff', () => diffIntents(b, h, inv.inventory));
const json = phase('renderJson', () => renderDiffJson(report));
const md = phase('renderMarkdown', () => renderDiffMarkdown(report));
ms.total = Math.round(performance.now() - t0);
console.log(
  JSON.stringify({
    ms,
    cpu,
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    // CPU time is what a shared, loaded machine distorts least.
    cpuMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
    rules: [b.ir.rules.length, h.ir.rules.length],
    pods: inv.inventory.pods.length,
    summary: report.summary,
    jsonBytes: json.length,
    markdownBytes: md.length,
  }),
);
