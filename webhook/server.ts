/**
 * The admission webhook's HTTPS edge: routes AdmissionReviews to the pure engine in
 * src/admission and answers with its serialised response. Everything here is transport:
 * TLS (reloaded on change), intent reload, metrics, logs, shutdown.
 */
import type { AddressInfo } from 'node:net';
import fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  parseAdmissionReview,
  review,
  reviewedKind,
  serialiseAdmissionResponse,
  serialiseBadRequest,
  serialiseInternalError,
  type AdmissionContext,
  type AdmissionOperation,
  type CniFlavour,
} from '../src/admission/index.js';
import type { Ir } from '../src/ir/types.js';
import { CertificateWatcher, readKeyPair } from './certificates.js';
import { sourcesCompiler, type IntentCompiler } from './compiler.js';
import { admissionContextOf, IntentStore, type AdmissionState } from './intent-store.js';
import { ApiServerNamespaces, type ApiServerAccess } from './namespace-labels.js';
import { createMetrics, type Verdict, type WebhookMetrics } from './metrics.js';

/** The API server never sends more (etcd's object limit); larger bodies are refused. */
export const BODY_LIMIT_BYTES = 3 * 1024 * 1024;

export interface WebhookServerOptions {
  /** Intent files or directories, as for `netintent compile`. */
  paths: string[];
  tlsCert: string;
  tlsKey: string;
  port?: number;
  host?: string;
  /** Inventory file giving namespace labels for tenant selectors. */
  inventory?: string;
  /** Read namespace labels from the API server instead (in a cluster: `inClusterAccess()`). */
  apiServer?: ApiServerAccess;
  /** How often the API server's namespaces are listed again (ms). */
  namespaceRefreshMs?: number;
  /** Also write this CNI's fixed-IP annotations when mutating. */
  cni?: CniFlavour;
  /** pino level; `silent` in tests. */
  logLevel?: string;
  /** Where JSON log lines go (default stdout). */
  logStream?: NodeJS.WritableStream;
  /** Defaults to src/sources. */
  compiler?: IntentCompiler;
  /** How long files must be quiet before a reload (ms). */
  reloadDebounceMs?: number;
}

export interface WebhookServer {
  app: FastifyInstance;
  /** `https://HOST:PORT`. */
  url: string;
  port: number;
  metrics: WebhookMetrics;
  intents: IntentStore;
  /** Rereads the certificate files now (the watcher does it on change). */
  reloadCertificate(): boolean;
  /** Stops watching, refuses new requests, drains in-flight ones, closes. */
  close(): Promise<void>;
}

export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const compiler = options.compiler ?? sourcesCompiler;
  const metrics = createMetrics();
  let log: FastifyInstance['log'] | undefined;
  const liveNamespaces = options.apiServer ? new ApiServerNamespaces(options.apiServer, (message) => log?.warn({ reason: message }, 'namespace labels')) : undefined;
  await liveNamespaces?.start(options.namespaceRefreshMs ?? 30_000);
  // The IR and context in service, swapped together when a reload succeeds.
  const serve = (state: AdmissionState): { ir: Ir; context: AdmissionContext } => ({
    ir: state.ir,
    context: admissionContextOf(state, compiler, options.cni, liveNamespaces?.labels),
  });
  const intents = await IntentStore.open(compiler, options.paths, options.inventory, {
    onReloaded: (state) => {
      serving = serve(state);
      metrics.stale.set(0);
      log?.info({ paths: options.paths }, 'intents reloaded');
    },
    onRefused: (reason) => {
      metrics.reloadFailures.inc();
      metrics.stale.set(1);
      log?.error({ reason }, 'new intents refused; serving the last good set');
    },
  });
  let serving = serve(intents.state);
  metrics.stale.set(0);

  const keyPair = readKeyPair(options.tlsCert, options.tlsKey);
  const app = fastify({
    https: keyPair,
    bodyLimit: BODY_LIMIT_BYTES,
    logger: { level: options.logLevel ?? 'info', ...(options.logStream ? { stream: options.logStream } : {}) },
    // One log line per review (below) instead of two per request.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });
  log = app.log;

  const certificates = new CertificateWatcher(keyPair, options.tlsCert, options.tlsKey, {
    onChanged: (pair) => {
      app.server.setSecureContext(pair);
      metrics.certificateReloads.inc({ result: 'installed' });
      app.log.info('serving certificate reloaded');
    },
    onRejected: (reason) => {
      metrics.certificateReloads.inc({ result: 'rejected' });
      app.log.warn({ reason }, 'certificate files unusable; keeping the current certificate');
    },
  });

  /** Counts and times one answer; returns its latency (arrival to verdict) in ms for the log line. */
  const record = (operation: AdmissionOperation, kind: string, verdict: Verdict, reply: FastifyReply): number => {
    const labels = { operation, kind, verdict };
    const latencyMs = reply.elapsedTime;
    metrics.requests.inc(labels);
    metrics.duration.observe(labels, latencyMs / 1000);
    return latencyMs;
  };
  // Log lines carry latency in µs-rounded ms: enough to spot a slow review, short to print.
  const roundMs = (ms: number): number => Math.round(ms * 1000) / 1000;

  const handle = (operation: AdmissionOperation) => async (request: FastifyRequest, reply: FastifyReply): Promise<string> => {
    void reply.type('application/json');
    const parsed = parseAdmissionReview(request.body);
    if ('error' in parsed) {
      const latencyMs = record(operation, 'unknown', 'bad_request', reply);
      request.log.warn({ operation, verdict: 'bad_request', reason: parsed.error, latencyMs: roundMs(latencyMs) }, 'bad admission request');
      void reply.code(400);
      return serialiseBadRequest(parsed.error);
    }
    const req = parsed.request;
    if (liveNamespaces && req.namespace) await liveNamespaces.ensure(req.namespace);
    const answer = review(serving.ir, serving.context, req, { operation });
    const response = answer.response;
    const verdict: Verdict = !response.allowed ? 'denied' : response.patch ? 'patched' : 'allowed';
    const kind = reviewedKind(req.kind) ?? 'other';
    const latencyMs = record(operation, kind, verdict, reply);
    // Denials at info (they say why a workload failed to start); the rest at debug, since
    // the API server's audit log already carries every verdict with our auditAnnotations
    // and the metrics count and time every request.
    request.log[verdict === 'denied' ? 'info' : 'debug'](
      {
        uid: req.uid,
        operation,
        kind: req.kind.kind,
        namespace: req.namespace,
        name: req.name,
        verdict,
        dryRun: req.dryRun,
        codes: response.auditAnnotations?.codes,
        latencyMs: roundMs(latencyMs),
      },
      'admission review',
    );
    return serialiseAdmissionResponse(answer);
  };

  // While closing, answer in-flight requests with `Connection: close` so that keep-alive
  // connections (the API server keeps them) end and close() can finish.
  let closing = false;
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });

  app.post('/validate', handle('validate'));
  app.post('/mutate', handle('mutate'));
  app.get('/healthz', async () => ({ status: 'ok' }));
  // Ready while a compiled set serves, even a stale one: refusing traffic would turn a bad
  // push into a cluster-wide admission outage. Staleness is reported here and in metrics.
  app.get('/readyz', async () => ({
    status: 'ready',
    intents: { loadedAt: intents.loadedAt.toISOString(), stale: intents.stale, ...(intents.lastError ? { lastError: intents.lastError } : {}) },
  }));
  app.get('/metrics', async (_request, reply) => {
    void reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  // Malformed JSON, wrong content type, oversized or empty bodies: a clear 400, never a 500.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const clientError = (error.statusCode ?? 500) < 500;
    // Bodies refused before the handler ran, and failures of the server itself, still count as
    // requests of their operation: a 500 makes the API server apply the failurePolicy, which
    // an alert on the `error` verdict has to see.
    const operation = request.routeOptions.url === '/validate' ? 'validate' : request.routeOptions.url === '/mutate' ? 'mutate' : undefined;
    const verdict: Verdict = clientError ? 'bad_request' : 'error';
    const latencyMs = operation ? record(operation, 'unknown', verdict, reply) : reply.elapsedTime;
    if (clientError) request.log.warn({ operation, verdict, code: error.code, reason: error.message, latencyMs: roundMs(latencyMs) }, 'bad request');
    else request.log.error({ operation, verdict, err: error, latencyMs: roundMs(latencyMs) }, 'request failed');
    const body = !clientError
      ? serialiseInternalError()
      : serialiseBadRequest(error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `request body exceeds ${BODY_LIMIT_BYTES} bytes` : error.message);
    void reply.code(clientError ? 400 : 500).type('application/json').send(body);
  });

  await app.listen({ port: options.port ?? 8443, host: options.host ?? '0.0.0.0' });
  const port = (app.server.address() as AddressInfo).port;
  const host = options.host ?? '0.0.0.0';
  certificates.watch(100);
  await intents.watch(options.reloadDebounceMs ?? 300);

  return {
    app,
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    metrics,
    intents,
    reloadCertificate: () => certificates.check(),
    close: async () => {
      closing = true;
      liveNamespaces?.close();
      certificates.close();
      intents.close();
      await app.close();
    },
  };
}
