/**
 * A failure inside the engine (a bug, not bad input) is answered with a 500 that leaks
 * nothing, counted under the `error` verdict and logged at error with the operation; the
 * process keeps serving. The engine is replaced by one that throws, since no input makes
 * the real one fail (fuzz.test.ts checks that).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fixtureIr, pod, reviewOf } from '../admission/fixtures.js';
import { fixtureCompiler, httpsClient, makeCa, tempDir } from './harness.js';

const engineFails = vi.hoisted(() => ({ on: false }));
vi.mock('../../src/admission/index.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/admission/index.js')>();
  return {
    ...original,
    review: (...args: Parameters<typeof original.review>) => {
      if (engineFails.on) throw new Error('engine exploded: secret detail');
      return original.review(...args);
    },
  };
});
const { startWebhookServer } = await import('../../webhook/index.js');

let tmp: ReturnType<typeof tempDir>;
let options: { paths: string[]; tlsCert: string; tlsKey: string; caPem: string };

beforeAll(() => {
  tmp = tempDir('internal-error');
  const ca = makeCa(tmp.dir);
  const pair = ca.issue('server');
  writeFileSync(join(tmp.dir, 'tls.crt'), pair.cert);
  writeFileSync(join(tmp.dir, 'tls.key'), pair.key);
  mkdirSync(join(tmp.dir, 'intents'));
  writeFileSync(join(tmp.dir, 'intents', 'ir.json'), JSON.stringify(fixtureIr()));
  options = { paths: [join(tmp.dir, 'intents')], tlsCert: join(tmp.dir, 'tls.crt'), tlsKey: join(tmp.dir, 'tls.key'), caPem: ca.caPem };
});
afterAll(() => tmp.remove());

describe('webhook internal errors', () => {
  it('answers 500 without detail, counts the error verdict, logs it and goes on serving', async () => {
    const stream = new PassThrough();
    const lines: Record<string, unknown>[] = [];
    stream.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
    });
    const { caPem, ...serverOptions } = options;
    const server = await startWebhookServer({ ...serverOptions, port: 0, host: '127.0.0.1', logLevel: 'info', logStream: stream, compiler: fixtureCompiler });
    const client = httpsClient(server.url, caPem);
    try {
      engineFails.on = true;
      const failed = await client.post('/mutate', reviewOf(pod({ name: 'p' }), { uid: 'boom' }));
      expect(failed.status).toBe(500);
      expect(failed.json()).toEqual({ error: 'InternalError', message: 'internal error; the webhook log has the details' });
      expect(failed.text).not.toContain('secret detail');

      engineFails.on = false;
      const served = await client.post('/mutate', reviewOf(pod({ name: 'p' }), { uid: 'after' }));
      expect(served.status).toBe(200);
      expect(served.json().response.uid).toBe('after');

      const metrics = (await client.get('/metrics')).text;
      expect(metrics).toMatch(/netintent_admission_requests_total\{operation="mutate",kind="unknown",verdict="error"\} 1\n/);
      expect(metrics).toMatch(/netintent_admission_request_duration_seconds_count\{operation="mutate",kind="unknown",verdict="error"\} 1\n/);
    } finally {
      engineFails.on = false;
      await client.close();
      await server.close();
    }
    expect(lines.filter((l) => l.msg === 'request failed')).toMatchObject([{ level: 50, operation: 'mutate', verdict: 'error', latencyMs: expect.any(Number) }]);
  });
});
