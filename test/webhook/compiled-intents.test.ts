/**
 * End to end with the real compiler (src/sources): a DSL file served by the webhook over
 * HTTPS, IntentSets compiled with compileTexts, and `netintent admit` on the same file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jsonPatch from 'fast-json-patch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAdmit } from '../../src/cli/commands/webhook.js';
import { runCli } from '../../src/cli/program.js';
import { startWebhookServer, type WebhookServer } from '../../webhook/index.js';
import { INTENT_SET_KIND, pod, reviewOf } from '../admission/fixtures.js';
import { httpsClient, makeCa, tempDir, waitFor, type HttpsClient } from './harness.js';

const INTENTS = `# shop: fixed addresses and pools
tenant shop {
  namespaces shop-prod
  isolation strict
  pool 10.20.0.0/24
  cap ingress 100M egress 100M
  networks shop-net
}

tenant lab {
  namespaces lab
  isolation none
  networks lab-net
}

fixed-ip shop-prod/legacy-billing 10.20.0.5
pool web-pool deployment shop-prod/web 10.20.0.10-10.20.0.29 reserve 10.20.0.20
pool mysql-pool statefulset shop-prod/mysql 10.20.0.40/29

group web {
  pods app = web in namespace shop-prod
}

rate web-limit {
  pods web
  ingress 10M
  egress 20M
}

egress-gateway audit {
  pods web
  to 0.0.0.0/0 except 10.0.0.0/8
  nodes gw-1
  egress-ip 192.0.2.10
}
`;

let tmp: ReturnType<typeof tempDir>;
let server: WebhookServer;
let client: HttpsClient;
let intentsDir: string;

beforeAll(async () => {
  tmp = tempDir('compiled');
  const ca = makeCa(tmp.dir);
  const pair = ca.issue('server');
  writeFileSync(join(tmp.dir, 'tls.crt'), pair.cert);
  writeFileSync(join(tmp.dir, 'tls.key'), pair.key);
  intentsDir = join(tmp.dir, 'intents');
  mkdirSync(intentsDir);
  writeFileSync(join(intentsDir, 'shop.intent'), INTENTS);
  server = await startWebhookServer({ paths: [intentsDir], tlsCert: join(tmp.dir, 'tls.crt'), tlsKey: join(tmp.dir, 'tls.key'), port: 0, host: '127.0.0.1', logLevel: 'silent', reloadDebounceMs: 50 });
  client = httpsClient(server.url, ca.caPem);
});
afterAll(async () => {
  await client?.close();
  await server?.close();
  tmp?.remove();
});

const validate = async (object: Record<string, unknown>, kind?: { group: string; version: string; kind: string }) =>
  (await client.post('/validate', reviewOf(object, kind ? { kind } : {}))).json().response;

async function mutated(object: Record<string, unknown>): Promise<Record<string, string>> {
  const response = (await client.post('/mutate', reviewOf(object))).json().response;
  const ops = response.patch ? (JSON.parse(Buffer.from(response.patch, 'base64').toString()) as jsonPatch.Operation[]) : [];
  const after = jsonPatch.applyPatch(structuredClone(object), ops, true, false).newDocument as { metadata: { annotations?: Record<string, string> } };
  expect((await client.post('/mutate', reviewOf(after as Record<string, unknown>))).json().response.patch).toBeUndefined();
  return after.metadata.annotations ?? {};
}

describe('webhook serving compiled DSL intents', () => {
  it('denies with messages naming the intent file and line', async () => {
    const host = await validate(pod({ name: 'p', namespace: 'shop-prod', spec: { hostNetwork: true, containers: [] } }));
    expect(host.allowed).toBe(false);
    expect(host.status.message).toMatch(/NI7001 .*spec\.hostNetwork.*tenant "shop" \(isolation strict, .*shop\.intent:2\)/);
    const taken = await validate(pod({ name: 'p', namespace: 'shop-prod', annotations: { 'cni.projectcalico.org/ipAddrs': '["10.20.0.5"]' } }));
    const fixedLine = INTENTS.split('\n').findIndex((l) => l.startsWith('fixed-ip')) + 1;
    expect(taken.status.message).toMatch(new RegExp(`NI7005 .*pod shop-prod/legacy-billing \\(.*shop\\.intent:${fixedLine}\\)`));
    const outside = await validate(pod({ name: 'p', namespace: 'shop-prod', annotations: { 'netintent.dev/ip': '10.99.0.1' } }));
    expect(outside.status.message).toContain('NI7002');
    const network = await validate(pod({ name: 'p', namespace: 'shop-prod', annotations: { 'k8s.v1.cni.cncf.io/networks': 'lab-net' } }));
    expect(network.status.message).toMatch(/NI7011 .*tenant "lab"/);
    const cap = await validate(pod({ name: 'p', namespace: 'shop-prod', annotations: { 'kubernetes.io/egress-bandwidth': '1G' } }));
    expect(cap.status.message).toContain('NI7010');
    expect((await validate(pod({ name: 'p', namespace: 'shop-prod', annotations: { 'netintent.dev/ip': '10.20.0.99' } }))).allowed).toBe(true);
  });

  it('annotates fixed-IP, StatefulSet and Deployment pods from the compiled IR', async () => {
    expect(await mutated(pod({ name: 'legacy-billing', namespace: 'shop-prod' }))).toEqual({ 'netintent.dev/ip': '10.20.0.5', 'netintent.dev/pool': 'shop' });
    const sts = { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'mysql', controller: true, uid: 'u' }] };
    expect(await mutated(pod({ name: 'mysql-0', namespace: 'shop-prod', ...sts }))).toEqual({ 'netintent.dev/pool': 'mysql-pool' });
    const web = await mutated(pod({ generateName: 'web-6f7d-', namespace: 'shop-prod', labels: { app: 'web', 'pod-template-hash': '6f7d' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-6f7d', controller: true, uid: 'r' }] }));
    expect(web).toEqual({ 'netintent.dev/pool': 'web-pool', 'kubernetes.io/ingress-bandwidth': '10M', 'kubernetes.io/egress-bandwidth': '20M', 'netintent.dev/egress-gateway': 'audit' });
  });

  it('rejects an IntentSet that does not compile, and admits one that does', async () => {
    const intentSet = (spec: Record<string, unknown>) => ({ apiVersion: 'netintent.dev/v1alpha1', kind: 'IntentSet', metadata: { name: 'team', namespace: 'shop-prod', uid: 'x', resourceVersion: '1' }, spec });
    const bad = await validate(intentSet({ rateLimits: [{ name: 'r', pods: 'nope', ingress: '10M' }] }), INTENT_SET_KIND);
    expect(bad.allowed).toBe(false);
    expect(bad.status.message).toMatch(/NI7014 IntentSet shop-prod\/team does not compile: NI2001 line \d+ /);
    const good = await validate(intentSet({ groups: [{ name: 'g', members: [{ pods: { matchLabels: { app: 'x' } } }] }] }), INTENT_SET_KIND);
    expect(good).toEqual({ uid: expect.any(String), allowed: true });
  });

  it('keeps the last good intents when an edit breaks them', async () => {
    writeFileSync(join(intentsDir, 'shop.intent'), `${INTENTS}\ngroup broken {\n  pods app = \n`);
    await waitFor('the refused reload', async () => JSON.parse((await client.get('/readyz')).text).intents.stale === true);
    expect(JSON.parse((await client.get('/readyz')).text).intents.lastError).toMatch(/shop\.intent:\d+:\d+: NI1/);
    expect((await validate(pod({ name: 'p', namespace: 'shop-prod', spec: { hostNetwork: true, containers: [] } }))).allowed).toBe(false);
    writeFileSync(join(intentsDir, 'shop.intent'), INTENTS);
    await waitFor('the restored intents', async () => JSON.parse((await client.get('/readyz')).text).intents.stale === false);
  });
});

describe('netintent admit with the real compiler', () => {
  it('prints the bytes the server sends', async () => {
    const body = reviewOf(pod({ name: 'legacy-billing', namespace: 'shop-prod' }), { uid: 'admit-real' });
    const file = join(tmp.dir, 'review.json');
    writeFileSync(file, JSON.stringify(body));
    let stdout = '';
    const code = await runCli(['admit', intentsDir, '--review', file, '--mutate'], { stdout: (t) => (stdout += t), stderr: () => undefined, isTty: false, cwd: process.cwd() }, [registerAdmit]);
    expect(code).toBe(0);
    expect(stdout).toBe((await client.post('/mutate', body)).text);
  });
});
