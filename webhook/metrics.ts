/** Prometheus metrics of one webhook server (own registry, so servers do not share counters). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** `error`: the server failed (a 500); the API server then applies the webhook's failurePolicy. */
export type Verdict = 'allowed' | 'patched' | 'denied' | 'bad_request' | 'error';

export interface WebhookMetrics {
  registry: Registry;
  requests: Counter<'operation' | 'kind' | 'verdict'>;
  duration: Histogram<'operation' | 'kind' | 'verdict'>;
  reloadFailures: Counter;
  stale: Gauge;
  certificateReloads: Counter<'result'>;
}

export function createMetrics(): WebhookMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'netintent_webhook_' });
  const labelNames = ['operation', 'kind', 'verdict'] as const;
  return {
    registry,
    requests: new Counter({ name: 'netintent_admission_requests_total', help: 'Admission requests by operation, kind and verdict.', labelNames, registers: [registry] }),
    duration: new Histogram({
      name: 'netintent_admission_request_duration_seconds',
      help: 'Admission request latency from arrival to response, by operation, kind and verdict.',
      labelNames,
      // Up to the API server's maximum webhook timeout (10 s is the longest a call may take).
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    reloadFailures: new Counter({ name: 'netintent_intents_reload_failures_total', help: 'Intent reloads refused because the new set does not compile.', registers: [registry] }),
    stale: new Gauge({ name: 'netintent_intents_stale', help: '1 while the served intents are older than the files (the last reload failed).', registers: [registry] }),
    certificateReloads: new Counter({ name: 'netintent_certificate_reloads_total', help: 'Serving certificate reloads by result (installed, rejected).', labelNames: ['result'], registers: [registry] }),
  };
}
