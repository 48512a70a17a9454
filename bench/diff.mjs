// Benchmark (issue 8, review): `netintent diff` of two versions of the 10,000-rule corpus
// (1,000 tenants × 10 rules, plus 2,000 generated isolation rules) with a 100,000-pod,
// 100-node inventory, at pod level. HEAD = BASE plus a pull request touching 8 tenants:
// a new tenant, opened ports, tightened CIDRs, a removed `deny any -> db` (every endpoint
// against that tenant's db pods), a moved fixed IP and a changed bandwidth cap. Run pinned to one core, in a fresh process:
//   npm run build && node bench/diff.mjs
// Targets: < 10 s wall, < 1.5 GB peak RSS.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { inventoryJson, writeCorpus } from './corpus.mjs';

const TENANTS = 1000;
const PODS = 100_000;
const NODES = 100;

const file = (dir, i) => join(dir, `t${String(i).padStart(5, '0')}.intent`);
const edit = (dir, i, from, to) => {
  const text = readFileSync(file(dir, i), 'utf8');
  if (!text.includes(from)) throw new Error(`t${i}: no "${from}"`);
  writeFileSync(file(dir, i), text.replace(from, to));
};

const root = mkdtempSync(join(tmpdir(), 'ni-bench-diff-'));
try {
  const base = join(root, 'base');
  const head = join(root, 'head');
  writeCorpus(base, TENANTS);
  writeCorpus(head, TENANTS + 1); // a new tenant t1000
  // Tenant i runs only app APPS[i % 5] (web, api, db, cache, batch) in one namespace: edits hit those pods.
  for (const i of [5, 10]) edit(head, i, `-> t${i}-web on tcp/443 log`, `-> t${i}-web on tcp/443, tcp/8443 log`);
  for (const i of [0, 15]) edit(head, i, '.0.0/16 except', '.0.0/20 except'); // the except /24 stays inside
  edit(head, 7, `  deny any -> t7-db\n`, '');
  edit(head, 9, `legacy-0 10.100.9.5`, `legacy-0 10.100.9.9`);
  edit(head, 11, 'cap ingress 1G', 'cap ingress 500M');
  const inventory = join(root, 'inventory.json');
  writeFileSync(inventory, inventoryJson(TENANTS, PODS, NODES));

  const child = new URL('./diff-child.mjs', import.meta.url).pathname;
  let cmd = [process.execPath, child, base, head, inventory];
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    cmd = ['taskset', '-c', '0', ...cmd];
  } catch {
    // no taskset: unpinned
  }
  const t0 = performance.now();
  const out = JSON.parse(execFileSync(cmd[0], cmd.slice(1), { encoding: 'utf8', maxBuffer: 1 << 26 }));
  const wallMs = Math.round(performance.now() - t0);
  console.log(`| rules (base / head, incl. isolation) | pods | wall incl. node start (ms) | CPU (ms) | peak RSS (MB) |`);
  console.log(`|---:|---:|---:|---:|---:|`);
  console.log(`| ${out.rules.join(' / ')} | ${out.pods} | ${wallMs} | ${out.cpuMs} | ${out.maxRssMb} |`);
  console.log(`\nphases, wall (ms): ${Object.entries(out.ms).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`phases, CPU (ms): ${Object.entries(out.cpu).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`summary: ${JSON.stringify(out.summary)}`);
  console.log(`output: JSON ${out.jsonBytes} bytes, Markdown ${out.markdownBytes} bytes`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
