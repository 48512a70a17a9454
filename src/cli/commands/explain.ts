/**
 * `explain` (one connection: verdict and the chain of rules that decided it, with
 * file:line) and `matrix` (reachability truth table), both from the pure evaluator.
 */
import type { Command } from 'commander';
import { diag, hasErrors, sortDiagnostics, type Diagnostic } from '../../diagnostics/diagnostic.js';
import type { DiagnosticFormat } from '../../diagnostics/render.js';
import { evaluate, reachabilityMatrix, type Connection, type Evaluation, type L4Protocol, type MatrixPort } from '../../explain/index.js';
import { canonicalIp, familyOf } from '../../ir/address.js';
import type { Ir } from '../../ir/types.js';
import type { Inventory } from '../../inventory/index.js';
import { compileFiles } from '../../sources/index.js';
import { EXIT_INPUT, EXIT_USAGE, ExitError, type CliIo, type CommandModule } from '../program.js';
import { formatOption, reportDiagnostics } from '../report.js';
import { readInventoryFile } from './compile.js';

const PROTOCOLS: readonly L4Protocol[] = ['tcp', 'udp', 'sctp', 'icmp', 'icmpv6'];

/** `80/tcp`, `tcp/80`, `udp` (port 0 stands for "any"), `icmp`, `icmp/8`, `icmp/8/0`. */
export function parsePortSpec(text: string): Omit<Connection, 'src' | 'dst'> | undefined {
  const parts = text.toLowerCase().split('/');
  const proto = parts.find((p): p is L4Protocol => (PROTOCOLS as readonly string[]).includes(p));
  if (!proto) return undefined;
  const numbers = parts.filter((p) => p !== proto);
  if (!numbers.every((n) => /^\d+$/.test(n))) return undefined;
  const [a, b] = numbers.map(Number);
  if (proto === 'icmp' || proto === 'icmpv6') {
    if (numbers.length > 2 || (a !== undefined && a > 255) || (b !== undefined && b > 255)) return undefined;
    return { protocol: proto, ...(a !== undefined ? { icmpType: a } : {}), ...(b !== undefined ? { icmpCode: b } : {}) };
  }
  if (numbers.length !== 1 || a! < 1 || a! > 65535) return undefined;
  return { protocol: proto, port: a! };
}

/** An endpoint: an IP, or `namespace/pod` from the inventory (all its primary IPs). */
function endpointIps(inventory: Inventory, text: string): string[] {
  const ip = canonicalIp(text);
  if (ip) return [ip];
  const [ns, name] = text.split('/');
  return inventory.pods.find((p) => p.namespace === ns && p.name === name)?.ips ?? [];
}

function podLabel(inventory: Inventory, ip: string): string {
  const pod = inventory.pods.find((p) => !p.hostNetwork && p.ips.includes(ip));
  return pod ? `${pod.namespace}/${pod.name} (${ip})` : ip;
}

interface Loaded {
  ir: Ir;
  inventory: Inventory;
}

function load(io: CliIo, paths: string[], inventoryPath: string, format: DiagnosticFormat): Loaded {
  const compiled = compileFiles(paths, io.cwd);
  const inv = readInventoryFile(io, inventoryPath);
  const diagnostics: Diagnostic[] = sortDiagnostics([...compiled.diagnostics, ...inv.diagnostics]);
  if (!compiled.ir || hasErrors(diagnostics)) {
    reportDiagnostics(io, diagnostics, format);
    throw new ExitError(EXIT_INPUT);
  }
  if (diagnostics.length > 0) reportDiagnostics(io, diagnostics, format);
  return { ir: compiled.ir, inventory: inv.inventory };
}

function usage(io: CliIo, message: string, format: DiagnosticFormat): never {
  reportDiagnostics(io, [diag('NI9003', undefined, [message])], format);
  throw new ExitError(EXIT_USAGE);
}

function renderEvaluation(inventory: Inventory, conn: Connection, spec: string, r: Evaluation): string {
  const lines = [`${r.verdict}: ${podLabel(inventory, conn.src)} -> ${podLabel(inventory, conn.dst)} ${spec}`];
  const side = (d: Evaluation['egress']): string => `${d.verdict} (${d.by}${d.id ? ` ${d.id}` : ''})`;
  // The whole decision on one line, as reviewers quote it: [tier] action (rule at file:line) -> ...
  const path = r.chain.map((s) => `[${s.tier}] ${s.action} (${s.id.replace(/^rule:/, '')}${s.source ? ` at ${s.source}` : ''})`).join(' -> ');
  lines.push(`  ${path || '[default] allow (no rule matched)'}`);
  lines.push(`  egress of the client:  ${side(r.egress)}`, `  ingress of the server: ${side(r.ingress)}`, '  chain:');
  r.chain.forEach((s, i) => {
    lines.push(`    ${i + 1}. ${s.tier.padEnd(11)} ${s.id.padEnd(28)} ${s.action.padEnd(11)}${s.source ? ` ${s.source}` : ''}${s.note ? `  # ${s.note}` : ''}`.trimEnd());
  });
  return `${lines.join('\n')}\n`;
}

interface ExplainOptions {
  inventory: string;
  from: string;
  to: string;
  port: string;
  json?: boolean;
  format: DiagnosticFormat;
}

export const registerExplain: CommandModule = (program: Command, io: CliIo) => {
  program
    .command('explain')
    .description('verdict for one connection and the chain of rules that decided it (file:line)')
    .argument('<paths...>', 'intent files (.intent, .yaml) or directories')
    .requiredOption('--inventory <file>', 'cluster inventory (kubectl get namespaces,pods,nodes,services -A -o yaml)')
    .requiredOption('--from <endpoint>', 'client: an IP or namespace/pod')
    .requiredOption('--to <endpoint>', 'server: an IP or namespace/pod')
    .requiredOption('--port <port/proto>', 'e.g. 80/tcp, 53/udp, icmp/8')
    .option('--json', 'print the evaluation as JSON')
    .addOption(formatOption())
    .action((paths: string[], opts: ExplainOptions) => {
      const spec = parsePortSpec(opts.port);
      if (!spec) usage(io, `--port ${opts.port}: expected PORT/PROTO (tcp, udp, sctp) or icmp[/TYPE[/CODE]]`, opts.format);
      const { ir, inventory } = load(io, paths, opts.inventory, opts.format);
      const froms = endpointIps(inventory, opts.from);
      const tos = endpointIps(inventory, opts.to);
      if (froms.length === 0) usage(io, `--from ${opts.from}: not an IP nor a pod of the inventory`, opts.format);
      if (tos.length === 0) usage(io, `--to ${opts.to}: not an IP nor a pod of the inventory`, opts.format);
      // Dual-stack pods: the first pair of one family.
      const pair = froms.flatMap((s) => tos.filter((d) => familyOf(d) === familyOf(s)).map((d) => [s, d] as const))[0];
      if (!pair) usage(io, `--from ${opts.from} and --to ${opts.to} share no IP family`, opts.format);
      const conn: Connection = { src: pair[0], dst: pair[1], ...spec };
      const result = evaluate(ir, inventory, conn);
      io.stdout(opts.json ? `${JSON.stringify({ connection: conn, ...result }, null, 2)}\n` : renderEvaluation(inventory, conn, opts.port, result));
    });
};

interface MatrixOptions {
  inventory: string;
  port: string[];
  json?: boolean;
  format: DiagnosticFormat;
}

const MARK = { allow: '.', deny: 'X', reject: 'R' } as const;

export const registerMatrix: CommandModule = (program: Command, io: CliIo) => {
  program
    .command('matrix')
    .description('reachability truth table between the pods of the inventory (. allow, X deny, R reject)')
    .argument('<paths...>', 'intent files (.intent, .yaml) or directories')
    .requiredOption('--inventory <file>', 'cluster inventory (kubectl get namespaces,pods,nodes,services -A -o yaml)')
    .option('--port <port/proto>', 'port to test (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--json', 'print the cells as JSON')
    .addOption(formatOption())
    .action((paths: string[], opts: MatrixOptions) => {
      const specs = (opts.port.length > 0 ? opts.port : ['80/tcp']).map((p) => {
        const spec = parsePortSpec(p);
        if (!spec) usage(io, `--port ${p}: expected PORT/PROTO (tcp, udp, sctp) or icmp[/TYPE[/CODE]]`, opts.format);
        return { text: p, spec };
      });
      const { ir, inventory } = load(io, paths, opts.inventory, opts.format);
      const ports: MatrixPort[] = specs.map((s) => s.spec);
      const cells = reachabilityMatrix(ir, inventory, ports);
      if (opts.json) {
        io.stdout(`${JSON.stringify(cells, null, 2)}\n`);
        return;
      }
      const pods = [...new Set(cells.map((c) => c.from))];
      const verdicts = new Map(cells.map((c) => [`${ports.indexOf(c.port)} ${c.from} ${c.to}`, c.verdict]));
      const digits = String(pods.length).length;
      const labels = pods.map((p, r) => `${String(r + 1).padStart(digits)} ${p}`);
      const width = Math.max(...specs.map((s) => s.text.length), ...labels.map((l) => l.length)) + 1;
      const out: string[] = [];
      specs.forEach((s, i) => {
        out.push(`${s.text.padEnd(width)}${pods.map((_, j) => String(j + 1).padStart(3)).join('')}`);
        pods.forEach((from, r) => {
          const row = pods.map((to) => verdicts.get(`${i} ${from} ${to}`));
          out.push(`${labels[r]!.padEnd(width)}${row.map((v) => (v ? MARK[v] : '-').padStart(3)).join('')}`);
        });
        out.push('');
      });
      io.stdout(out.join('\n'));
    });
};
