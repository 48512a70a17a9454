// Child process of compile.mjs: compiles one corpus directory and reports wall time and peak RSS.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compileFiles } from '../dist/src/sources/index.js';
import { parseDsl } from '../dist/src/frontend/dsl/index.js';
import { canonicalJson } from '../dist/src/ir/canonical.js';

const [dir, mode] = process.argv.slice(2);
if (mode === 'parse') {
  const files = readdirSync(dir).sort().map((f) => ({ path: join(dir, f), text: readFileSync(join(dir, f), 'utf8') }));
  const lines = files.reduce((n, f) => n + f.text.split('\n').length, 0);
  const t0 = performance.now();
  for (const f of files) parseDsl(f.path, f.text);
  const ms = performance.now() - t0;
  console.log(JSON.stringify({ lines, ms, linesPerSecond: Math.round((lines / ms) * 1000) }));
} else {
  const t0 = performance.now();
  const result = compileFiles([dir]);
  const json = result.ir ? canonicalJson(result.ir, true) : '';
  const ms = performance.now() - t0;
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) {
    console.error(errors.slice(0, 5));
    process.exit(1);
  }
  console.log(JSON.stringify({ ms, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024), rules: result.ir.rules.length, irBytes: json.length }));
}
