/**
 * `node apply` (one shot, or `--dry-run` to print the plan) and `node run` (reconcile
 * loop) on one node. With L7 rules both run HAProxy and dnsmasq as their children, so a
 * `node apply` then stays in the foreground until SIGINT/SIGTERM stops the proxies.
 */
import type { Command } from 'commander';
import { diag, hasErrors, sortDiagnostics } from '../../diagnostics/diagnostic.js';
import type { DiagnosticFormat } from '../../diagnostics/render.js';
import { compileFiles } from '../../sources/index.js';
import { NodeAgent, planNode, readNetSnapshot, renderDryRun, resolveHostInterfaces, startAgentLoop, summary, DEFAULT_HEALTH_PORT, DEFAULT_STATE_DIR } from '../../node/index.js';
import { EXIT_INPUT, EXIT_USAGE, ExitError, type CliIo } from '../program.js';
import { formatOption, reportDiagnostics } from '../report.js';
import { readInventoryFile } from './compile.js';

interface NodeOptions {
  inventory: string;
  node: string;
  dryRun?: boolean;
  interval: string;
  healthPort: string;
  stateDir: string;
  format: DiagnosticFormat;
}

const STATE_DIR_HELP = 'directory for the L7 proxies\' configurations and sockets';

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function positive(text: string, what: string, io: CliIo, format: DiagnosticFormat): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) {
    reportDiagnostics(io, [diag('NI9003', undefined, [`${what} takes a number, got "${text}"`])], format);
    throw new ExitError(EXIT_USAGE);
  }
  return n;
}

export function registerNode(program: Command, io: CliIo): void {
  const node = program.command('node').description('materialise the intents on a node (nftables, tc, egress routes)');
  node
    .command('apply')
    .description('apply once: nftables (atomic), then tc, then routes; --dry-run prints the plan')
    .argument('<paths...>', 'intent files (.intent, .yaml) or directories')
    .requiredOption('--inventory <file>', 'cluster inventory')
    .requiredOption('--node <name>', 'this node')
    .option('--dry-run', 'print the nft scripts, proxy configurations, tc commands and routes instead of applying')
    .option('--state-dir <dir>', STATE_DIR_HELP, DEFAULT_STATE_DIR)
    .addOption(formatOption())
    .action(async (paths: string[], opts: NodeOptions) => {
      const compiled = compileFiles(paths, io.cwd);
      const inv = readInventoryFile(io, opts.inventory);
      const diagnostics = [...compiled.diagnostics, ...inv.diagnostics];
      if (!compiled.ir || hasErrors(diagnostics)) {
        reportDiagnostics(io, sortDiagnostics(diagnostics), opts.format);
        throw new ExitError(EXIT_INPUT);
      }
      if (opts.dryRun) {
        const plan = planNode(compiled.ir, inv.inventory, opts.node);
        const all = sortDiagnostics([...diagnostics, ...plan.diagnostics]);
        if (all.length) reportDiagnostics(io, all, opts.format);
        if (hasErrors(all)) throw new ExitError(EXIT_INPUT);
        // Reading routes is harmless: the plan shows the real interfaces where they exist.
        const ips = inv.inventory.pods.filter((p) => p.nodeName === opts.node && p.ips.length).map((p) => p.ips[0]!);
        io.stdout(renderDryRun(plan, inv.inventory, resolveHostInterfaces(await readNetSnapshot(), ips)));
        return;
      }
      const agent = new NodeAgent({ node: opts.node, stateDir: opts.stateDir, report: (d) => reportDiagnostics(io, [d], opts.format) });
      const report = await agent.apply(compiled.ir, inv.inventory);
      const all = sortDiagnostics([...diagnostics, ...report.diagnostics]);
      if (all.length) reportDiagnostics(io, all, opts.format);
      io.stdout(`${opts.node}: ${summary(report)}\n`);
      if (agent.runsProxies) {
        if (report.ok) {
          io.stdout(`${opts.node}: L7 proxies running until SIGINT/SIGTERM (node run also follows changes)\n`);
          await untilSignal();
        }
        await agent.stopProxies();
      }
      if (!report.ok) throw new ExitError(EXIT_INPUT);
    });
  node
    .command('run')
    .description('reconcile loop: watch the inventory and intents, apply differences, repair drift')
    .argument('<paths...>', 'intent files (.intent, .yaml) or directories')
    .option('--inventory <file>', 'cluster inventory file (watched)')
    .option('--from-api', 'read the inventory from the API server through informers (in-cluster service account, else $KUBECONFIG or ~/.kube/config)')
    .option('--kubeconfig <file>', 'kubeconfig for --from-api')
    .requiredOption('--node <name>', 'this node')
    .option('--interval <seconds>', 'seconds between drift checks', '10')
    .option('--health-port <port>', 'TCP port for egress-gateway health probes (0: none)', String(DEFAULT_HEALTH_PORT))
    .option('--state-dir <dir>', STATE_DIR_HELP, DEFAULT_STATE_DIR)
    .addOption(formatOption())
    .action(async (paths: string[], opts: Omit<NodeOptions, 'inventory'> & { inventory?: string; fromApi?: boolean; kubeconfig?: string }) => {
      const intervalS = positive(opts.interval, '--interval', io, opts.format);
      const healthPort = positive(opts.healthPort, '--health-port', io, opts.format);
      if ((opts.inventory !== undefined) === (opts.fromApi === true) || (opts.kubeconfig !== undefined && !opts.fromApi)) {
        reportDiagnostics(io, [diag('NI9003', undefined, ['node run takes exactly one of --inventory FILE and --from-api (--kubeconfig goes with --from-api)'])], opts.format);
        throw new ExitError(EXIT_USAGE);
      }
      const agent = await startAgentLoop({
        paths,
        inventory: opts.inventory !== undefined ? { file: opts.inventory } : { api: opts.kubeconfig !== undefined ? { kubeconfig: opts.kubeconfig } : {} },
        node: opts.node,
        cwd: io.cwd,
        intervalS: Math.max(intervalS, 0.2),
        healthPort,
        stateDir: opts.stateDir,
        log: (line) => io.stderr(`${new Date().toISOString()} ${opts.node}: ${line}\n`),
        report: (d) => reportDiagnostics(io, sortDiagnostics(d), opts.format),
      });
      await agent.ready;
      await untilSignal();
      await agent.stop();
    });
}
