// Benchmark (issue "compiler core"): check + IR of generated corpora of 1k, 10k, 50k rules,
// each compile in a fresh process pinned to one core; DSL parse rate. Usage:
//   npm run build && node bench/compile.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCorpus } from './corpus.mjs';

const pin = (args) => {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return ['taskset', ['-c', '0', process.execPath, ...args]];
  } catch {
    return [process.execPath, args];
  }
};
const child = new URL('./compile-child.mjs', import.meta.url).pathname;
const run = (dir, mode) => {
  const [cmd, args] = pin([child, dir, ...(mode ? [mode] : [])]);
  return JSON.parse(execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 }));
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const rows = [];
for (const tenants of [100, 1000, 5000]) {
  const dir = mkdtempSync(join(tmpdir(), 'ni-corpus-'));
  try {
    const lines = writeCorpus(dir, tenants);
    const runs = [1, 2, 3].map(() => run(dir));
    const parse = [1, 2, 3].map(() => run(dir, 'parse'));
    rows.push({
      tenants,
      rules: runs[0].rules,
      lines,
      fixedIps: tenants * 2,
      ms: Math.round(median(runs.map((r) => r.ms))),
      rssMb: median(runs.map((r) => r.maxRssMb)),
      linesPerSecond: median(parse.map((p) => p.linesPerSecond)),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log('| tenants | rules (incl. isolation) | DSL lines | fixed IPs | check + IR (median of 3, ms) | peak RSS (MB) | DSL parse (lines/s) |');
console.log('|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.tenants} | ${r.rules} | ${r.lines} | ${r.fixedIps} | ${r.ms} | ${r.rssMb} | ${r.linesPerSecond} |`);
const per = rows.map((r) => r.ms / r.rules);
console.log(`\nms per rule: ${per.map((x) => x.toFixed(3)).join(' → ')} (near-linear growth keeps this flat)`);
