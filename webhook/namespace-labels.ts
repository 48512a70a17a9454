/**
 * Namespace labels from the API server (AdmissionReviews do not carry them): listed at
 * start and every `refreshMs`, and fetched on demand for a namespace not seen yet (a pod
 * in a namespace created seconds ago). Plain HTTPS with the pod's service-account token:
 * @kubernetes/client-node 2.x does not load on Node 20.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';

export interface ApiServerAccess {
  /** `https://HOST:PORT`. */
  url: string;
  /** Read at every call: projected service-account tokens rotate. */
  token: () => string;
  ca: string;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The API server as seen from inside a pod. */
export function inClusterAccess(): ApiServerAccess {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw new Error('not running in a cluster: KUBERNETES_SERVICE_HOST is not set');
  return {
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    token: () => readFileSync(`${SERVICE_ACCOUNT_DIR}/token`, 'utf8').trim(),
    ca: readFileSync(`${SERVICE_ACCOUNT_DIR}/ca.crt`, 'utf8'),
  };
}

function getJson(access: ApiServerAccess, path: string, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(`${access.url}${path}`, { method: 'GET', ca: access.ca, headers: { authorization: `Bearer ${access.token()}`, accept: 'application/json' }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
        } catch (e) {
          reject(e as Error);
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from the API server within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function labelsOf(item: unknown): [string, Record<string, string>] | undefined {
  const meta = (item as { metadata?: { name?: unknown; labels?: unknown } } | null)?.metadata;
  if (typeof meta?.name !== 'string') return undefined;
  const labels: Record<string, string> = {};
  if (typeof meta.labels === 'object' && meta.labels !== null) {
    for (const [k, v] of Object.entries(meta.labels)) if (typeof v === 'string') labels[k] = v;
  }
  return [meta.name, labels];
}

export class ApiServerNamespaces {
  /** Namespace name → labels; the engine reads it live. */
  readonly labels = new Map<string, Record<string, string>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly access: ApiServerAccess,
    private readonly onError: (message: string) => void,
    private readonly timeoutMs = 2000,
  ) {}

  /** Lists every namespace; throws when the API server cannot be read. */
  async refresh(): Promise<void> {
    const { status, body } = await getJson(this.access, '/api/v1/namespaces', this.timeoutMs);
    if (status !== 200) throw new Error(`listing namespaces: HTTP ${status}`);
    const items = (body as { items?: unknown[] }).items ?? [];
    const fresh = new Map(items.map(labelsOf).filter((e): e is [string, Record<string, string>] => e !== undefined));
    for (const name of this.labels.keys()) if (!fresh.has(name)) this.labels.delete(name);
    for (const [name, labels] of fresh) this.labels.set(name, labels);
  }

  /** Makes sure a namespace's labels are known before a review needs them. */
  async ensure(name: string): Promise<void> {
    if (this.labels.has(name)) return;
    try {
      const { status, body } = await getJson(this.access, `/api/v1/namespaces/${encodeURIComponent(name)}`, this.timeoutMs);
      const entry = status === 200 ? labelsOf(body) : undefined;
      if (entry) this.labels.set(entry[0], entry[1]);
      else if (status !== 404) this.onError(`reading namespace ${name}: HTTP ${status}`);
    } catch (e) {
      this.onError(`reading namespace ${name}: ${(e as Error).message}`);
    }
  }

  /** First list now (fails loudly), then a refresh every `refreshMs` (failures reported, old labels kept). */
  async start(refreshMs: number): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => this.refresh().catch((e: Error) => this.onError(e.message)), refreshMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }
}
