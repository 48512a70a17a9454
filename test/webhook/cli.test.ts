import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { webhookCommands } from '../../src/cli/commands/webhook.js';
import { runCli, type CliIo } from '../../src/cli/program.js';
import { startWebhookServer, type WebhookServer } from '../../webhook/index.js';
import { fixtureIr, pod, reviewOf } from '../admission/fixtures.js';
import { fixtureCompiler, httpsClient, makeCa, tempDir, type HttpsClient } from './harness.js';

const { registerWebhook, registerAdmit } = webhookCommands(fixtureCompiler);

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isTty: false, cwd: process.cwd() };
  const code = await runCli(argv, io, [registerAdmit, registerWebhook]);
  return { code, stdout, stderr };
}

let tmp: ReturnType<typeof tempDir>;
let server: WebhookServer;
let client: HttpsClient;
let intents: string;

beforeAll(async () => {
  tmp = tempDir('cli');
  const ca = makeCa(tmp.dir);
  const pair = ca.issue('server');
  writeFileSync(join(tmp.dir, 'tls.crt'), pair.cert);
  writeFileSync(join(tmp.dir, 'tls.key'), pair.key);
  intents = join(tmp.dir, 'intents');
  mkdirSync(intents);
  writeFileSync(join(intents, 'ir.json'), JSON.stringify(fixtureIr()));
  server = await startWebhookServer({ paths: [intents], tlsCert: join(tmp.dir, 'tls.crt'), tlsKey: join(tmp.dir, 'tls.key'), port: 0, host: '127.0.0.1', logLevel: 'silent', compiler: fixtureCompiler });
  client = httpsClient(server.url, ca.caPem);
});
afterAll(async () => {
  await client?.close();
  await server?.close();
  tmp?.remove();
});

describe('netintent admit', () => {
  const reviews: [string, Record<string, unknown>, boolean][] = [
    ['denied pod', reviewOf(pod({ name: 'p', spec: { hostNetwork: true, containers: [] } }), { uid: 'cli-1' }), false],
    ['mutated pod', reviewOf(pod({ name: 'legacy-db' }), { uid: 'cli-2' }), true],
    ['allowed pod', reviewOf(pod({ name: 'p', namespace: 'default' }), { uid: 'cli-3' }), true],
  ];
  for (const [name, body, allowed] of reviews) {
    for (const mutate of [false, true]) {
      it(`prints the server's exact bytes for a ${name} (${mutate ? 'mutate' : 'validate'})`, async () => {
        const file = join(tmp.dir, `${name.replace(/ /g, '-')}.json`);
        writeFileSync(file, JSON.stringify(body, null, 2));
        const out = await cli('admit', intents, '--review', file, ...(mutate ? ['--mutate'] : []));
        const served = await client.post(mutate ? '/mutate' : '/validate', body);
        expect(out.stdout).toBe(served.text);
        expect(out.code).toBe(mutate || allowed ? 0 : 1);
      });
    }
  }

  it('prints the 400 body for a request that is no AdmissionReview, and exits 1', async () => {
    const file = join(tmp.dir, 'not-a-review.json');
    writeFileSync(file, '{"kind":"Pod"}');
    const out = await cli('admit', intents, '--review', file);
    expect(out.code).toBe(1);
    expect(out.stdout).toBe((await client.post('/validate', '{"kind":"Pod"}')).text);
  });

  it('reports intents that do not compile with their diagnostics', async () => {
    const bad = join(tmp.dir, 'bad-intents');
    mkdirSync(bad);
    writeFileSync(join(bad, 'ir.json'), '{"broken":"web"}');
    const file = join(tmp.dir, 'any.json');
    writeFileSync(file, JSON.stringify(reviewOf(pod())));
    const out = await cli('admit', bad, '--review', file);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('NI2001');
    expect(out.stdout).toBe('');
  });
});

describe('netintent webhook', () => {
  it('manifests: 2+ replicas with a PDB, Service, and webhook configurations as required', async () => {
    const out = await cli('webhook', 'manifests', '--namespace', 'netsys', '--image', 'example/netintent:test');
    expect(out.code).toBe(0);
    const docs = parseAllDocuments(out.stdout).map((d) => d.toJS() as Record<string, any>);
    const byKind = new Map(docs.map((d) => [d.kind as string, d]));
    expect(byKind.get('Deployment')!.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(byKind.get('Deployment')!.spec.template.spec.containers[0].image).toBe('example/netintent:test');
    expect(byKind.get('PodDisruptionBudget')!.spec.minAvailable).toBe(1);
    expect(byKind.get('Service')!.metadata.namespace).toBe('netsys');
    for (const [kind, failurePolicy] of [['ValidatingWebhookConfiguration', 'Fail'], ['MutatingWebhookConfiguration', 'Ignore']] as const) {
      const hook = byKind.get(kind)!.webhooks[0];
      expect(hook.failurePolicy).toBe(failurePolicy);
      expect(hook.sideEffects).toBe('None');
      expect(hook.admissionReviewVersions).toEqual(['v1']);
      expect(hook.timeoutSeconds).toBeLessThanOrEqual(5);
      expect(hook.namespaceSelector.matchExpressions).toEqual([{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-node-lease', 'kube-system', 'netsys'] }]);
      expect(hook.clientConfig.service).toMatchObject({ name: 'netintent-webhook', namespace: 'netsys' });
    }
    expect(byKind.get('ValidatingWebhookConfiguration')!.webhooks[0].clientConfig.service.path).toBe('/validate');
    expect(byKind.get('MutatingWebhookConfiguration')!.webhooks[0].clientConfig.service.path).toBe('/mutate');
  });

  it('manifests: a given CA bundle replaces cert-manager injection', async () => {
    const caFile = join(tmp.dir, 'ca.crt');
    const out = await cli('webhook', 'manifests', '--ca-bundle', caFile);
    const docs = parseAllDocuments(out.stdout).map((d) => d.toJS() as Record<string, any>);
    const validating = docs.find((d) => d.kind === 'ValidatingWebhookConfiguration')!;
    expect(validating.metadata.annotations).toBeUndefined();
    expect(Buffer.from(validating.webhooks[0].clientConfig.caBundle, 'base64').toString()).toContain('BEGIN CERTIFICATE');
  });

  it('serve: usage errors exit 2, unstartable servers exit 1', async () => {
    expect((await cli('webhook', 'serve', intents, '--tls-cert', 'x')).code).toBe(2);
    expect((await cli('webhook', 'serve', intents, '--tls-cert', 'x', '--tls-key', 'y', '--port', 'http')).code).toBe(2);
    const missing = await cli('webhook', 'serve', intents, '--tls-cert', join(tmp.dir, 'nope.crt'), '--tls-key', join(tmp.dir, 'nope.key'), '--port', '0');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.crt');
  });
});
