/** Namespace labels read from a (fake) API server: listed at start, fetched on demand. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookServer, type WebhookServer } from '../../webhook/index.js';
import { fixtureIr, pod, reviewOf } from '../admission/fixtures.js';
import { fixtureCompiler, httpsClient, makeCa, tempDir, type HttpsClient } from './harness.js';

let tmp: ReturnType<typeof tempDir>;
let api: FastifyInstance;
let server: WebhookServer;
let client: HttpsClient;
let caPem: string;
const seen: string[] = [];
const namespaces: Record<string, Record<string, string>> = { 'beta-a': { team: 'beta' }, default: {} };

beforeAll(async () => {
  tmp = tempDir('nsapi');
  const ca = makeCa(tmp.dir);
  caPem = ca.caPem;
  const pair = ca.issue('server');
  writeFileSync(join(tmp.dir, 'tls.crt'), pair.cert);
  writeFileSync(join(tmp.dir, 'tls.key'), pair.key);
  mkdirSync(join(tmp.dir, 'intents'));
  writeFileSync(join(tmp.dir, 'intents', 'ir.json'), JSON.stringify(fixtureIr()));

  api = fastify({ https: { cert: pair.cert, key: pair.key } });
  const object = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...namespaces[name] } } });
  api.addHook('onRequest', async (request, reply) => {
    seen.push(`${request.method} ${request.url}`);
    if (request.headers.authorization !== 'Bearer test-token') return reply.code(401).send({ kind: 'Status', code: 401 });
  });
  api.get('/api/v1/namespaces', async () => ({ kind: 'NamespaceList', items: Object.keys(namespaces).map(object) }));
  api.get<{ Params: { name: string } }>('/api/v1/namespaces/:name', async (request, reply) =>
    namespaces[request.params.name] ? object(request.params.name) : reply.code(404).send({ kind: 'Status', code: 404 }),
  );
  await api.listen({ port: 0, host: '127.0.0.1' });
  const apiPort = (api.server.address() as { port: number }).port;

  server = await startWebhookServer({
    paths: [join(tmp.dir, 'intents')],
    tlsCert: join(tmp.dir, 'tls.crt'),
    tlsKey: join(tmp.dir, 'tls.key'),
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    compiler: fixtureCompiler,
    apiServer: { url: `https://localhost:${apiPort}`, token: () => 'test-token', ca: ca.caPem },
  });
  client = httpsClient(server.url, ca.caPem);
});
afterAll(async () => {
  await client?.close();
  await server?.close();
  await api?.close();
  tmp?.remove();
});

const hostPod = (namespace: string) => reviewOf(pod({ name: 'p', namespace, spec: { hostNetwork: true, containers: [] } }));

describe('namespace labels from the API server', () => {
  it('lists namespaces at start and places pods in label-selected tenants', async () => {
    expect(seen).toContain('GET /api/v1/namespaces');
    const out = (await client.post('/validate', hostPod('beta-a'))).json().response;
    expect(out.allowed).toBe(false);
    expect(out.status.message).toContain('tenant "beta"');
  });

  it('fetches a namespace created after the last list before reviewing its pod', async () => {
    namespaces['beta-new'] = { team: 'beta' };
    const out = (await client.post('/validate', hostPod('beta-new'))).json().response;
    expect(seen).toContain('GET /api/v1/namespaces/beta-new');
    expect(out.allowed).toBe(false);
    expect(out.status.message).toContain('tenant "beta"');
  });

  it('treats a namespace the API server does not know as label-less', async () => {
    const out = (await client.post('/validate', hostPod('ghost'))).json().response;
    expect(seen).toContain('GET /api/v1/namespaces/ghost');
    expect(out.allowed).toBe(true);
  });

  it('refuses to start when the API server cannot be read', async () => {
    await expect(
      startWebhookServer({
        paths: [join(tmp.dir, 'intents')],
        tlsCert: join(tmp.dir, 'tls.crt'),
        tlsKey: join(tmp.dir, 'tls.key'),
        port: 0,
        host: '127.0.0.1',
        logLevel: 'silent',
        compiler: fixtureCompiler,
        apiServer: { url: `https://localhost:${(api.server.address() as { port: number }).port}`, token: () => 'wrong', ca: caPem },
      }),
    ).rejects.toThrow(/listing namespaces: HTTP 401/);
  });
});
