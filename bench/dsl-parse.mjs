// Parse-rate check for the DSL front end (not a unit test).
// Usage: npm run build && node bench/dsl-parse.mjs [lines]
import { parseDsl } from '../dist/src/frontend/dsl/index.js';

/** A realistic mix of statements, numbered so that names stay distinct. */
function program(targetLines) {
  const out = [];
  for (let i = 0; out.length < targetLines; i++) {
    out.push(
      `let office${i} = 172.${i % 250}.0.0/16`,
      `tenant t${i} {`,
      `  namespaces t${i}-prod, t${i}-dev   # the tenant's namespaces`,
      '  isolation strict',
      `  pool 10.${i % 250}.0.0/24, 10.${i % 250}.1.10-10.${i % 250}.1.50`,
      '  cap ingress 100M egress 50M',
      '}',
      `group web${i} {`,
      `  pods app = web, tier in (frontend, edge), !legacy in namespace t${i}-prod`,
      '  cidr 192.168.0.0/16 except 192.168.1.0/24, 192.168.2.0/24',
      `  service t${i}-prod/api`,
      '}',
      `policy p${i} tier application priority ${i % 65536} {`,
      `  allow web${i} -> db on tcp/3306, tcp/8000-8080 log`,
      `  allow web${i} or api -> cidr $office${i} except 172.17.1.0/24 on tcp/443`,
      '  deny any -> pods role = db in namespaces where env = prod',
      '  reject any -> web on icmp type 8',
      '  allow empire -> deathstar on tcp/80 http {',
      '    GET "/v1/.*" host "deathstar.local" header "X-Token" = "abc"',
      '  }',
      '}',
      `fixed-ip t${i}-prod/db 10.${i % 250}.0.5`,
      `networkpolicy t${i}-prod/allow-web {`,
      '  select app = db',
      '  ingress from pods role = frontend or cidr 172.17.0.0/16 on tcp/6379',
      '}',
    );
  }
  return `${out.join('\n')}\n`;
}

const lines = Number(process.argv[2] ?? 20000);
const text = program(lines);
const lineCount = text.split('\n').length - 1;
parseDsl('warmup.intent', program(2000)); // let the JIT settle
const runs = 3;
let best = Infinity;
let bestCpu = Infinity;
for (let r = 0; r < runs; r++) {
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const result = parseDsl('bench.intent', text);
  const used = process.cpuUsage(cpu);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.diagnostics.length) throw new Error(`unexpected diagnostics: ${result.diagnostics[0].message}`);
  best = Math.min(best, ms);
  bestCpu = Math.min(bestCpu, (used.user + used.system) / 1e3);
}
const rate = (ms) => Math.round(lineCount / (ms / 1000));
// CPU time is reported too: on a busy machine wall-clock time mostly measures the wait.
console.log(`${lineCount} lines in ${best.toFixed(0)} ms wall, ${bestCpu.toFixed(0)} ms CPU (best of ${runs}): ${rate(best)} lines/s wall, ${rate(bestCpu)} lines/s CPU`);
