/**
 * Property tests of /validate and /mutate (in-process via inject): whatever arrives, the
 * answer is a 200 AdmissionReview echoing the uid or a 400, never a 5xx; validate never
 * patches; warnings stay within 120 characters; mutation patches apply and are idempotent.
 * 10,000 generated cases in all (12,500 requests).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import jsonPatch from 'fast-json-patch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookServer, type WebhookServer } from '../../webhook/index.js';
import { podObject } from '../admission/arbitraries.js';
import { fixtureIr, reviewOf } from '../admission/fixtures.js';
import { fixtureCompiler, makeCa, tempDir } from './harness.js';

let tmp: ReturnType<typeof tempDir>;
let server: WebhookServer;

beforeAll(async () => {
  tmp = tempDir('fuzz');
  const pair = makeCa(tmp.dir).issue('server');
  writeFileSync(join(tmp.dir, 'tls.crt'), pair.cert);
  writeFileSync(join(tmp.dir, 'tls.key'), pair.key);
  mkdirSync(join(tmp.dir, 'intents'));
  writeFileSync(join(tmp.dir, 'intents', 'ir.json'), JSON.stringify(fixtureIr()));
  server = await startWebhookServer({
    paths: [join(tmp.dir, 'intents')],
    tlsCert: join(tmp.dir, 'tls.crt'),
    tlsKey: join(tmp.dir, 'tls.key'),
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    compiler: fixtureCompiler,
  });
});
afterAll(async () => {
  await server?.close();
  tmp?.remove();
});

async function post(path: '/validate' | '/mutate', payload: string) {
  const res = await server.app.inject({ method: 'POST', url: path, payload, headers: { 'content-type': 'application/json' } });
  return { status: res.statusCode, body: res.body };
}

/** Checks the invariants of any answer; returns the response object of a 200. */
function checkAnswer(path: string, sent: unknown, status: number, body: string): Record<string, any> | undefined {
  expect([200, 400]).toContain(status);
  const parsed = JSON.parse(body) as Record<string, any>;
  if (status === 400) {
    expect(parsed.error).toBe('BadRequest');
    return undefined;
  }
  expect(parsed.apiVersion).toBe('admission.k8s.io/v1');
  expect(parsed.kind).toBe('AdmissionReview');
  const response = parsed.response as Record<string, any>;
  expect(response.uid).toBe((sent as { request: { uid: string } }).request.uid);
  expect(typeof response.allowed).toBe('boolean');
  expect(response.status === undefined).toBe(response.allowed);
  for (const w of response.warnings ?? []) expect((w as string).length).toBeLessThanOrEqual(120);
  if (path === '/validate') expect(response.patch).toBeUndefined();
  else expect(response.allowed).toBe(true);
  return response;
}

const uid = fc.uuid();

describe('fuzzing /validate and /mutate', () => {
  it('answers arbitrary JSON with 200 or 400, never a 5xx (3,000 cases)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/validate', '/mutate') as fc.Arbitrary<'/validate' | '/mutate'>, fc.jsonValue({ maxDepth: 4 }), async (path, value) => {
        const res = await post(path, JSON.stringify(value));
        expect([200, 400]).toContain(res.status);
        JSON.parse(res.body);
      }),
      { numRuns: 3000 },
    );
  });

  it('answers corrupted AdmissionReviews with 200 or 400 (1,500 cases)', async () => {
    const paths = [['request', 'uid'], ['request', 'kind'], ['request', 'kind', 'kind'], ['request', 'operation'], ['request', 'object'], ['request', 'object', 'metadata'], ['request', 'object', 'metadata', 'annotations'], ['request', 'object', 'spec'], ['request', 'object', 'spec', 'containers'], ['request', 'namespace'], ['request', 'dryRun'], ['apiVersion'], ['request']];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/validate', '/mutate') as fc.Arbitrary<'/validate' | '/mutate'>, podObject, fc.constantFrom(...paths), fc.jsonValue(), async (path, object, where, value) => {
        const body = reviewOf(object, { uid: 'corrupt' }) as Record<string, any>;
        let at = body;
        for (const key of where.slice(0, -1)) at = (at[key] ??= {}) as Record<string, any>;
        at[where.at(-1)!] = value;
        const res = await post(path, JSON.stringify(body));
        expect([200, 400]).toContain(res.status);
        if (res.status === 200) checkAnswer(path, body, res.status, res.body);
      }),
      { numRuns: 1500 },
    );
  });

  it('validates generated pods: uid echoed, no patch, short warnings (3,000 cases)', async () => {
    await fc.assert(
      fc.asyncProperty(podObject, uid, fc.boolean(), async (object, id, dryRun) => {
        const body = reviewOf(object, { uid: id, dryRun });
        const res = await post('/validate', JSON.stringify(body));
        expect(res.status).toBe(200);
        checkAnswer('/validate', body, res.status, res.body);
      }),
      { numRuns: 3000 },
    );
  });

  it('mutates generated pods: patches apply, and mutating the result again is a no-op (2,500 cases)', async () => {
    await fc.assert(
      fc.asyncProperty(podObject, uid, async (object, id) => {
        const body = reviewOf(object, { uid: id });
        const res = await post('/mutate', JSON.stringify(body));
        expect(res.status).toBe(200);
        const response = checkAnswer('/mutate', body, res.status, res.body)!;
        if (response.patch === undefined) return;
        expect(response.patchType).toBe('JSONPatch');
        const ops = JSON.parse(Buffer.from(response.patch as string, 'base64').toString()) as jsonPatch.Operation[];
        expect(jsonPatch.validate(ops, object)).toBeUndefined();
        const after = jsonPatch.applyPatch(structuredClone(object), ops, true, false).newDocument as Record<string, unknown>;
        const again = await post('/mutate', JSON.stringify(reviewOf(after, { uid: id })));
        const second = JSON.parse(again.body).response;
        expect(second.allowed).toBe(true);
        expect(second.patch).toBeUndefined();
      }),
      { numRuns: 2500 },
    );
  });
});
