/**
 * `netintent webhook serve|manifests` and `netintent admit`: the admission webhook, its
 * Kubernetes manifests, and offline admission printing the very bytes the server sends.
 */
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import {
  CNI_FLAVOURS,
  parseAdmissionReview,
  review,
  serialiseAdmissionResponse,
  serialiseBadRequest,
  type CniFlavour,
} from '../../admission/index.js';
import { DiagnosticError } from '../../diagnostics/diagnostic.js';
import type { IntentCompiler } from '../../../webhook/index.js';
import { EXIT_INPUT, EXIT_USAGE, ExitError, type CliIo, type CommandModule } from '../program.js';
import { reportDiagnostics } from '../report.js';

const cniOption = () => new Option('--cni <name>', 'also write this CNI\'s fixed-IP annotations').choices([...CNI_FLAVOURS]);

function parsePort(io: CliIo, value: string): number {
  const port = Number(value);
  if (Number.isInteger(port) && port >= 0 && port <= 65535) return port;
  io.stderr(`netintent webhook serve: --port ${value} is not a port number\n`);
  throw new ExitError(EXIT_USAGE);
}

/**
 * The webhook side, loaded when a command runs: the HTTPS server, its logger and metrics
 * take a large part of a second to import, which no other command should pay.
 */
const webhookModule = () => import('../../../webhook/index.js');

/** The commands, with the compiler they use (src/sources by default; tests pass a stand-in). */
export function webhookCommands(compiler?: IntentCompiler): { registerWebhook: CommandModule; registerAdmit: CommandModule } {
  return { registerWebhook: (program, io) => registerWebhookWith(program, io, compiler), registerAdmit: (program, io) => registerAdmitWith(program, io, compiler) };
}

export const { registerWebhook, registerAdmit } = webhookCommands();

function registerWebhookWith(program: Command, io: CliIo, compiler: IntentCompiler | undefined): void {
  const webhook = program.command('webhook').description('the admission webhook server and its manifests');

  webhook
    .command('serve')
    .description('serve /validate and /mutate over HTTPS, reloading intents and certificate on change')
    .argument('<paths...>', 'intent files or directories')
    .requiredOption('--tls-cert <file>', 'PEM certificate (chain)')
    .requiredOption('--tls-key <file>', 'PEM private key')
    .option('--port <port>', 'HTTPS port', '8443')
    .option('--host <address>', 'listen address', '0.0.0.0')
    .option('--inventory <file>', 'inventory giving namespace labels for tenant selectors')
    .option('--namespaces-from-api', 'read namespace labels from the API server (in-cluster service account)')
    .addOption(cniOption())
    .option('--log-level <level>', 'pino log level', 'info')
    .action(async (paths: string[], opts: { tlsCert: string; tlsKey: string; port: string; host: string; inventory?: string; namespacesFromApi?: boolean; cni?: CniFlavour; logLevel: string }) => {
      const { inClusterAccess, sourcesCompiler, startWebhookServer } = await webhookModule();
      let server;
      try {
        server = await startWebhookServer({
          paths,
          compiler: compiler ?? sourcesCompiler,
          tlsCert: opts.tlsCert,
          tlsKey: opts.tlsKey,
          port: parsePort(io, opts.port),
          host: opts.host,
          logLevel: opts.logLevel,
          ...(opts.inventory !== undefined ? { inventory: opts.inventory } : {}),
          ...(opts.namespacesFromApi ? { apiServer: inClusterAccess() } : {}),
          ...(opts.cni !== undefined ? { cni: opts.cni } : {}),
        });
      } catch (e) {
        if (e instanceof ExitError) throw e;
        if (e instanceof DiagnosticError) reportDiagnostics(io, e.diagnostics);
        else io.stderr(`netintent webhook: ${(e as Error).message}\n`);
        throw new ExitError(EXIT_INPUT);
      }
      const running = server;
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          void running.close().then(resolve);
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
    });

  webhook
    .command('manifests')
    .description('print the Deployment, PDB, Service, certificate and webhook configurations')
    .option('--namespace <ns>', 'namespace the webhook runs in', 'netintent')
    .option('--image <image>', 'container image', 'netintent/netintent:0.1.0')
    .option('--replicas <n>', 'replicas (at least 2)', '2')
    .option('--ca-bundle <file>', 'PEM CA that signed the serving certificate (default: cert-manager injects it)')
    .action(async (opts: { namespace: string; image: string; replicas: string; caBundle?: string }) => {
      const replicas = Number(opts.replicas);
      if (!Number.isInteger(replicas) || replicas < 2) {
        io.stderr('netintent webhook manifests: --replicas must be an integer of at least 2\n');
        throw new ExitError(EXIT_USAGE);
      }
      let caBundle: string | undefined;
      if (opts.caBundle !== undefined) {
        try {
          caBundle = await readFile(opts.caBundle, 'utf8');
        } catch (e) {
          io.stderr(`netintent webhook manifests: cannot read ${opts.caBundle}: ${(e as Error).message}\n`);
          throw new ExitError(EXIT_INPUT);
        }
      }
      const { renderManifests } = await webhookModule();
      io.stdout(renderManifests({ namespace: opts.namespace, image: opts.image, replicas, ...(caBundle !== undefined ? { caBundle } : {}) }));
    });
}

function registerAdmitWith(program: Command, io: CliIo, compiler: IntentCompiler | undefined): void {
  program
    .command('admit')
    .description('review an AdmissionReview offline: prints the exact response body the webhook sends (exit 1 when denied)')
    .argument('<paths...>', 'intent files or directories')
    .requiredOption('--review <file>', 'AdmissionReview request (JSON or YAML)')
    .option('--mutate', 'answer as /mutate instead of /validate')
    .option('--inventory <file>', 'inventory giving namespace labels for tenant selectors')
    .addOption(cniOption())
    .action(async (paths: string[], opts: { review: string; mutate?: boolean; inventory?: string; cni?: CniFlavour }) => {
      let text: string;
      try {
        text = await readFile(opts.review, 'utf8');
      } catch (e) {
        io.stderr(`netintent admit: cannot read ${opts.review}: ${(e as Error).message}\n`);
        throw new ExitError(EXIT_INPUT);
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        try {
          body = parseYaml(text);
        } catch (e) {
          io.stdout(serialiseBadRequest(`${opts.review} is neither JSON nor YAML: ${(e as Error).message}`));
          throw new ExitError(EXIT_INPUT);
        }
      }
      const { admissionContextOf, loadAdmissionState, sourcesCompiler } = await webhookModule();
      const reviewCompiler = compiler ?? sourcesCompiler;
      const { state, diagnostics } = await loadAdmissionState(reviewCompiler, paths, opts.inventory);
      if (!state) {
        reportDiagnostics(io, diagnostics);
        throw new ExitError(EXIT_INPUT);
      }
      const parsed = parseAdmissionReview(body);
      if ('error' in parsed) {
        io.stdout(serialiseBadRequest(parsed.error));
        throw new ExitError(EXIT_INPUT);
      }
      const out = review(state.ir, admissionContextOf(state, reviewCompiler, opts.cni), parsed.request, { operation: opts.mutate ? 'mutate' : 'validate' });
      io.stdout(serialiseAdmissionResponse(out));
      if (!out.response.allowed) throw new ExitError(EXIT_INPUT);
    });
}
