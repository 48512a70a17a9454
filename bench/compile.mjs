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
for (const [tenants, varied] of [[100, false], [1000, false], [5000, false], [1000, true]]) {
  const dir = mkdtempSync(join(tmpdir(), 'ni-corpus-'));
  try {
    const lines = writeCorpus(dir, tenants, { varied });
    const runs = [1, 2, 3].map(() => run(dir));
    const parse = [1, 2, 3].map(() => run(dir, 'parse'));
    rows.push({
      tenants,
      layout: varied ? 'varied' : 'uniform',
      rules: runs[0].rules,
      lines,
      fixedIps: tenants * 2,
      ms: Math.round(median(runs.map((r) => r.ms))),
      cpuMs: Math.round(median(runs.map((r) => r.cpuMs))),
      rssMb: median(runs.map((r) => r.maxRssMb)),
      linesPerSecond: median(parse.map((p) => p.linesPerSecond)),
      linesPerCpuSecond: median(parse.map((p) => p.linesPerCpuSecond)),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log('| tenants | layout | rules (incl. isolation) | DSL lines | fixed IPs | check + IR wall (ms) | CPU (ms) | peak RSS (MB) | DSL parse wall (lines/s) | per CPU second |');
console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.tenants} | ${r.layout} | ${r.rules} | ${r.lines} | ${r.fixedIps} | ${r.ms} | ${r.cpuMs} | ${r.rssMb} | ${r.linesPerSecond} | ${r.linesPerCpuSecond} |`);
console.log('\nmedians of 3 fresh processes pinned to one core (taskset -c 0)');
const per = rows.filter((r) => r.layout === 'uniform').map((r) => r.cpuMs / r.rules);
console.log(`CPU ms per rule: ${per.map((x) => x.toFixed(3)).join(' → ')} (near-linear growth keeps this flat)`);
