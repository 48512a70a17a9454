import { writeFileSync, renameSync } from 'node:fs';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import jsonPatch from 'fast-json-patch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookServer, type WebhookServer } from '../../webhook/index.js';
import { fixtureIr, INTENT_SET_KIND, NETWORK_POLICY_KIND, networkPolicy, pod, reviewOf } from '../admission/fixtures.js';
import { fixtureCompiler, httpsClient, makeCa, servedFingerprint, tempDir, waitFor, type HttpsClient, type TestCa } from './harness.js';

let tmp: ReturnType<typeof tempDir>;
let ca: TestCa;
let server: WebhookServer;
let client: HttpsClient;
let intentsFile: string;
let certFile: string;
let keyFile: string;

function writeInventory(path: string): void {
  const ns = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  writeFileSync(path, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [ns('acme-dev'), ns('acme-prod'), ns('beta-a', { team: 'beta' }), ns('beta-b', { team: 'beta' }), ns('ops')] }));
}

beforeAll(async () => {
  tmp = tempDir('webhook');
  ca = makeCa(tmp.dir);
  const first = ca.issue('server-1');
  certFile = join(tmp.dir, 'tls.crt');
  keyFile = join(tmp.dir, 'tls.key');
  writeFileSync(certFile, first.cert);
  writeFileSync(keyFile, first.key);
  intentsFile = join(tmp.dir, 'intents', 'ir.json');
  await import('node:fs/promises').then((fs) => fs.mkdir(join(tmp.dir, 'intents')));
  writeFileSync(intentsFile, JSON.stringify(fixtureIr()));
  writeInventory(join(tmp.dir, 'inventory.json'));
  server = await startWebhookServer({
    paths: [join(tmp.dir, 'intents')],
    tlsCert: certFile,
    tlsKey: keyFile,
    port: 0,
    host: '127.0.0.1',
    inventory: join(tmp.dir, 'inventory.json'),
    logLevel: 'silent',
    compiler: fixtureCompiler,
    reloadDebounceMs: 50,
  });
  client = httpsClient(server.url, ca.caPem);
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  tmp?.remove();
});

interface Case {
  name: string;
  body: Record<string, unknown>;
  allowed: boolean;
  code?: string;
}

const c = (name: string, object: Record<string, unknown>, allowed: boolean, code?: string, kind?: { group: string; version: string; kind: string }): Case => ({
  name,
  body: reviewOf(object, { uid: `uid-${name.replace(/\W+/g, '-')}`, ...(kind ? { kind } : {}) }),
  allowed,
  ...(code ? { code } : {}),
});
const hostNet = { hostNetwork: true, containers: [{ name: 'a', image: 'x' }] };
const validateCases: Case[] = [
  c('NI7001 hostNetwork in strict tenant', pod({ name: 'p', spec: hostNet }), false, 'NI7001'),
  c('NI7001 hostNetwork where isolation is none', pod({ name: 'p', namespace: 'ops', spec: hostNet }), true),
  c('NI7002 address outside tenant pools', pod({ name: 'p', annotations: { 'ovn.kubernetes.io/ip_address': '10.99.0.1' } }), false, 'NI7002'),
  c('NI7002 address inside tenant pools', pod({ name: 'p', annotations: { 'cni.projectcalico.org/ipAddrs': '["10.10.1.11"]' } }), true),
  c('NI7003 pool of another tenant', pod({ name: 'p', annotations: { 'netintent.dev/pool': 'beta-0' } }), false, 'NI7003'),
  c('NI7003 pool of own tenant', pod({ name: 'p', annotations: { 'netintent.dev/pool': 'acme-0' } }), true),
  c('NI7004 unknown pool', pod({ name: 'p', annotations: { 'netintent.dev/pool': 'ghost' } }), false, 'NI7004'),
  c('NI7005 address of another pod', pod({ name: 'p', annotations: { 'ipam.antrea.io/pod-ips': '10.10.0.5' } }), false, 'NI7005'),
  c('NI7005 own fixed address', pod({ name: 'legacy-db', annotations: { 'netintent.dev/ip': '10.10.0.5' } }), true),
  c('NI7006 pool of another workload', pod({ name: 'p', annotations: { 'ipam.antrea.io/ippools': 'mysql' } }), false, 'NI7006'),
  c('NI7007 other address than intended', pod({ name: 'dual', annotations: { 'netintent.dev/ip': '10.10.0.99' } }), false, 'NI7007'),
  c('NI7008 malformed address list', pod({ name: 'p', annotations: { 'cni.projectcalico.org/ipAddrs': '["nope"]' } }), false, 'NI7008'),
  c('NI7009 malformed bandwidth', pod({ name: 'p', annotations: { 'kubernetes.io/ingress-bandwidth': '10Mbps' } }), false, 'NI7009'),
  c('NI7009 well-formed bandwidth', pod({ name: 'p', annotations: { 'kubernetes.io/ingress-bandwidth': '10M' } }), true),
  c('NI7010 bandwidth above cap', pod({ name: 'p', annotations: { 'kubernetes.io/egress-bandwidth': '51M' } }), false, 'NI7010'),
  c('NI7011 network of another tenant', pod({ name: 'p', annotations: { 'k8s.v1.cni.cncf.io/networks': 'beta-a/beta-net' } }), false, 'NI7011'),
  c('NI7011 own network', pod({ name: 'p', annotations: { 'k8s.v1.cni.cncf.io/networks': 'storage-net' } }), true),
  c('NI7012 malformed network selection', pod({ name: 'p', annotations: { 'k8s.v1.cni.cncf.io/networks': '[1,2]' } }), false, 'NI7012'),
  c('NI7013 NetworkPolicy opening a strict tenant', networkPolicy('acme-prod', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'beta' } } }] }] }), false, 'NI7013', NETWORK_POLICY_KIND),
  c('NI7013 NetworkPolicy inside the tenant', networkPolicy('acme-prod', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'acme-dev' } } }] }] }), true, undefined, NETWORK_POLICY_KIND),
  c('NI7014 IntentSet that does not compile', { apiVersion: 'netintent.dev/v1alpha1', kind: 'IntentSet', metadata: { name: 's', namespace: 'acme-prod' }, spec: { groups: [{ name: 'bad-intent' }] } }, false, 'NI7014', INTENT_SET_KIND),
  c('NI7014 IntentSet that compiles', { apiVersion: 'netintent.dev/v1alpha1', kind: 'IntentSet', metadata: { name: 's', namespace: 'acme-prod' }, spec: { groups: [] } }, true, undefined, INTENT_SET_KIND),
  {
    name: 'NI7001 kubectl debug adding NET_ADMIN',
    body: reviewOf(pod({ name: 'p', spec: { containers: [], ephemeralContainers: [{ name: 'dbg', securityContext: { capabilities: { add: ['NET_ADMIN'] } } }] } }), {
      uid: 'uid-ephemeral',
      operation: 'UPDATE',
      subResource: 'ephemeralcontainers',
      oldObject: pod({ name: 'p', spec: { containers: [] } }),
    }),
    allowed: false,
    code: 'NI7001',
  },
  c('NI7015 unexpected kind', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'acme-prod' } }, true, 'NI7015', { group: '', version: 'v1', kind: 'Secret' }),
];

describe('POST /validate over HTTPS', () => {
  for (const tc of validateCases) {
    it(`${tc.name}: ${tc.allowed ? 'allowed' : 'denied'}, same answer with dryRun`, async () => {
      const res = await client.post('/validate', tc.body);
      expect(res.status).toBe(200);
      const out = res.json();
      expect(out.apiVersion).toBe('admission.k8s.io/v1');
      expect(out.kind).toBe('AdmissionReview');
      expect(out.response.uid).toBe((tc.body.request as { uid: string }).uid);
      expect(out.response.allowed).toBe(tc.allowed);
      expect(out.response.patch).toBeUndefined();
      if (tc.code) expect(tc.allowed ? out.response.warnings.join('\n') : out.response.status.message).toContain(tc.code);
      if (!tc.allowed) expect(out.response.status.code).toBe(403);
      const dry = structuredClone(tc.body);
      (dry.request as { dryRun: boolean }).dryRun = true;
      expect((await client.post('/validate', dry)).text).toBe(res.text);
    });
  }
});

describe('POST /mutate over HTTPS', () => {
  it('returns a JSON Patch that yields the annotations, and an empty one on its own output', async () => {
    const object = pod({ name: 'mysql-3', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'mysql', controller: true, uid: 'x' }], annotations: { team: 'db' } });
    const res = await client.post('/mutate', reviewOf(object, { uid: 'm-1' }));
    expect(res.status).toBe(200);
    const out = res.json().response;
    expect(out).toMatchObject({ uid: 'm-1', allowed: true, patchType: 'JSONPatch' });
    const patch = JSON.parse(Buffer.from(out.patch, 'base64').toString()) as jsonPatch.Operation[];
    const after = jsonPatch.applyPatch(structuredClone(object), patch, true, false).newDocument as { metadata: { annotations: Record<string, string> } };
    expect(after.metadata.annotations).toEqual({ team: 'db', 'netintent.dev/pool': 'mysql' });
    const again = (await client.post('/mutate', reviewOf(after as Record<string, unknown>, { uid: 'm-2' }))).json().response;
    expect(again).toEqual({ uid: 'm-2', allowed: true });
  });
});

describe('AdmissionReview response bytes', () => {
  const intentSet = (groups: string[]) => ({ apiVersion: 'netintent.dev/v1alpha1', kind: 'IntentSet', metadata: { name: 's', namespace: 'acme-prod' }, spec: { groups: groups.map((name) => ({ name })) } });
  /** Posts the review, then again as a dryRun: the answer must be the same bytes. */
  async function answer(path: '/validate' | '/mutate', body: Record<string, unknown>): Promise<{ text: string; response: Record<string, any> }> {
    const res = await client.post(path, body);
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^application\/json/);
    const dry = structuredClone(body);
    (dry.request as { dryRun: boolean }).dryRun = true;
    expect((await client.post(path, dry)).text).toBe(res.text);
    const parsed = res.json();
    // Compact JSON, envelope first: exactly what `netintent admit` prints.
    expect(res.text).toBe(JSON.stringify(parsed));
    expect(Object.keys(parsed)).toEqual(['apiVersion', 'kind', 'response']);
    expect(parsed).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
    return { text: res.text, response: parsed.response };
  }

  it('allow: the uid and the verdict, nothing else', async () => {
    const { text } = await answer('/validate', reviewOf(pod({ name: 'p' }), { uid: 'bytes-allow' }));
    expect(text).toBe('{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"bytes-allow","allowed":true}}');
  });

  it('deny with warnings: 403 status, warnings cut to 120 characters, audit annotations', async () => {
    const body = reviewOf(intentSet(['bad-intent', 'shadowed-intent']), { uid: 'bytes-deny', kind: INTENT_SET_KIND });
    const { response } = await answer('/validate', body);
    expect(Object.keys(response)).toEqual(['uid', 'allowed', 'status', 'warnings', 'auditAnnotations']);
    expect(response).toMatchObject({ uid: 'bytes-deny', allowed: false, status: { code: 403 }, auditAnnotations: { verdict: 'denied', codes: 'NI7014' } });
    expect(Object.keys(response.status)).toEqual(['code', 'message']);
    expect(response.status.message).toContain('NI7014');
    const warning = `NI4003 Rule is shadowed by rule "shadowed-intent" of policy ${'long-policy-name-'.repeat(8)}: it can never match.`;
    expect(response.warnings).toEqual([`${warning.slice(0, 119)}…`]);
  });

  it('mutate: a base64 JSON Patch from /mutate only, with the annotations it sets', async () => {
    const body = reviewOf(pod({ name: 'legacy-db' }), { uid: 'bytes-mutate' });
    const { response } = await answer('/mutate', body);
    expect(Object.keys(response)).toEqual(['uid', 'allowed', 'patchType', 'patch', 'auditAnnotations']);
    expect(response).toMatchObject({ uid: 'bytes-mutate', allowed: true, patchType: 'JSONPatch' });
    const patch = JSON.parse(Buffer.from(response.patch, 'base64').toString()) as jsonPatch.Operation[];
    const after = jsonPatch.applyPatch(structuredClone(body.request as { object: object }).object, patch, true, false).newDocument as { metadata: { annotations: Record<string, string> } };
    expect(response.auditAnnotations).toEqual({ patched: Object.keys(after.metadata.annotations).sort().join(',') });
    const validated = await answer('/validate', body);
    expect(validated.text).toBe('{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"bytes-mutate","allowed":true}}');
  });
});

describe('bad input', () => {
  const valid = reviewOf(pod({ name: 'p' }), { uid: 'bad-base' });
  const withRequest = (patch: Record<string, unknown>) => ({ ...valid, request: { ...(valid.request as object), ...patch } });
  const cases: [string, string, Record<string, string>?][] = [
    ['malformed JSON', '{"apiVersion": "admission.k8s.io/v1", '],
    ['empty body', ''],
    ['not JSON content type', 'hello', { 'content-type': 'text/plain' }],
    ['JSON array', '[]'],
    ['wrong apiVersion', JSON.stringify({ ...valid, apiVersion: 'admission.k8s.io/v1beta1' })],
    ['wrong kind', JSON.stringify({ ...valid, kind: 'Pod' })],
    ['missing request', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' })],
    ['missing uid', JSON.stringify(withRequest({ uid: undefined }))],
    ['unknown operation', JSON.stringify(withRequest({ operation: 'PATCH' }))],
    ['CREATE without object', JSON.stringify(withRequest({ object: null }))],
    ['prototype poisoning', '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","__proto__":{"x":1}}'],
    ['body over 3 MiB', JSON.stringify({ ...valid, padding: 'x'.repeat(3 * 1024 * 1024) })],
  ];
  for (const [name, body, headers] of cases) {
    for (const path of ['/validate', '/mutate']) {
      it(`${name} on ${path}: 400 with a reason, server alive`, async () => {
        const res = await client.post(path, body, headers);
        expect(res.status).toBe(400);
        const err = res.json();
        expect(err.error).toBe('BadRequest');
        expect(typeof err.message).toBe('string');
        expect(err.message.length).toBeGreaterThan(0);
        expect((await client.get('/healthz')).status).toBe(200);
      });
    }
  }
});

describe('hostile but well-formed input', () => {
  it('answers a review with 200,000 levels of nesting in metadata on both paths', async () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const body = JSON.stringify(reviewOf(pod({ name: 'legacy-db' }), { uid: 'deep' })).replace('"metadata":{', `"metadata":{"managedFields":${deep},`);
    for (const path of ['/validate', '/mutate']) {
      const res = await client.post(path, body);
      expect(res.status).toBe(200);
      expect(res.json().response.uid).toBe('deep');
    }
    expect((await client.get('/healthz')).status).toBe(200);
  });
});

describe('operations endpoints', () => {
  it('serves /healthz, /readyz and /metrics with request counts and latency buckets up to 10 s', async () => {
    expect((await client.get('/healthz')).status).toBe(200);
    const ready = await client.get('/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text).intents.stale).toBe(false);
    await client.post('/validate', reviewOf(pod({ name: 'p', spec: hostNet })));
    const metrics = (await client.get('/metrics')).text;
    expect(metrics).toMatch(/netintent_admission_requests_total\{operation="validate",kind="Pod",verdict="denied"\} \d+/);
    expect(metrics).toMatch(/netintent_admission_request_duration_seconds_bucket\{le="10",operation="validate",kind="Pod",verdict="denied"\} \d+/);
    expect(metrics).toMatch(/netintent_admission_requests_total\{operation="mutate",kind="unknown",verdict="bad_request"\} [1-9]/);
    expect(metrics).toContain('netintent_intents_stale 0');
    expect(metrics).toContain('netintent_intents_reload_failures_total 0');
  });

  it('refuses clients that do not trust the CA', async () => {
    await expect(
      new Promise((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: server.port, servername: 'localhost' }, () => resolve(s.end()));
        s.on('error', reject);
      }),
    ).rejects.toThrow(/certificate/);
  });
});

describe('certificate reload', () => {
  it('serves a replaced certificate on new connections without a restart', async () => {
    const before = await servedFingerprint(server.port, ca.caPem);
    const next = ca.issue('server-2');
    // Atomic replacement, as a Secret volume update does it.
    writeFileSync(`${keyFile}.new`, next.key);
    writeFileSync(`${certFile}.new`, next.cert);
    renameSync(`${keyFile}.new`, keyFile);
    renameSync(`${certFile}.new`, certFile);
    const expected = new X509Certificate(next.cert).fingerprint256;
    expect(expected).not.toBe(before);
    await waitFor('the new certificate', async () => (await servedFingerprint(server.port, ca.caPem)) === expected);
    const fresh = httpsClient(server.url, ca.caPem);
    expect((await fresh.post('/validate', reviewOf(pod({ name: 'p' })))).status).toBe(200);
    await fresh.close();
  });
});

describe('intent reload', () => {
  const hostPod = () => reviewOf(pod({ name: 'p', spec: hostNet }));
  it('serves a new good set, refuses a bad one (last good keeps serving) and recovers', async () => {
    expect((await client.post('/validate', hostPod())).json().response.allowed).toBe(false);

    const relaxed = fixtureIr();
    relaxed.tenants[0]!.allowHostAccess = true;
    writeFileSync(intentsFile, JSON.stringify(relaxed));
    await waitFor('the relaxed intents', async () => (await client.post('/validate', hostPod())).json().response.allowed === true);

    writeFileSync(intentsFile, JSON.stringify({ ...fixtureIr(), broken: 'missing-group' }));
    await waitFor('the refused reload', async () => JSON.parse((await client.get('/readyz')).text).intents.stale === true);
    const ready = await client.get('/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text).intents.lastError).toContain('NI2001');
    expect((await client.post('/validate', hostPod())).json().response.allowed).toBe(true);
    const metrics = (await client.get('/metrics')).text;
    expect(metrics).toContain('netintent_intents_stale 1');
    expect(metrics).toMatch(/netintent_intents_reload_failures_total [1-9]/);

    writeFileSync(intentsFile, JSON.stringify(fixtureIr()));
    await waitFor('the restored intents', async () => JSON.parse((await client.get('/readyz')).text).intents.stale === false);
    expect((await client.post('/validate', hostPod())).json().response.allowed).toBe(false);
    expect((await client.get('/metrics')).text).toContain('netintent_intents_stale 0');
  });
});
