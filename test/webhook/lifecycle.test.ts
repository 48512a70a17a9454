import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookServer } from '../../webhook/index.js';
import { fixtureIr, pod, reviewOf } from '../admission/fixtures.js';
import { fixtureCompiler, httpsClient, makeCa, tempDir, waitFor, type TestCa } from './harness.js';

let tmp: ReturnType<typeof tempDir>;
let ca: TestCa;
let options: { paths: string[]; tlsCert: string; tlsKey: string };

beforeAll(() => {
  tmp = tempDir('lifecycle');
  ca = makeCa(tmp.dir);
  const pair = ca.issue('server');
  writeFileSync(join(tmp.dir, 'tls.crt'), pair.cert);
  writeFileSync(join(tmp.dir, 'tls.key'), pair.key);
  mkdirSync(join(tmp.dir, 'intents'));
  writeFileSync(join(tmp.dir, 'intents', 'ir.json'), JSON.stringify(fixtureIr()));
  options = { paths: [join(tmp.dir, 'intents')], tlsCert: join(tmp.dir, 'tls.crt'), tlsKey: join(tmp.dir, 'tls.key') };
});
afterAll(() => tmp.remove());

describe('webhook lifecycle', () => {
  it('refuses to start on intents that do not compile', async () => {
    const bad = join(tmp.dir, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'ir.json'), JSON.stringify({ broken: 'nothing' }));
    await expect(startWebhookServer({ ...options, paths: [bad], port: 0, host: '127.0.0.1', logLevel: 'silent', compiler: fixtureCompiler })).rejects.toThrow(/NI2001/);
  });

  it('logs denials at info, other verdicts at debug and bad requests at warn, with the request uid and latency', async () => {
    const stream = new PassThrough();
    const lines: Record<string, unknown>[] = [];
    stream.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
    });
    const server = await startWebhookServer({ ...options, port: 0, host: '127.0.0.1', logLevel: 'debug', logStream: stream, compiler: fixtureCompiler });
    const client = httpsClient(server.url, ca.caPem);
    await client.post('/validate', reviewOf(pod({ name: 'p' }), { uid: 'log-allowed' }));
    await client.post('/validate', reviewOf(pod({ name: 'p', spec: { hostNetwork: true, containers: [] } }), { uid: 'log-denied' }));
    await client.post('/mutate', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
    await client.post('/mutate', '{"truncated": ');
    await client.close();
    await server.close();
    const latencyMs = expect.any(Number);
    expect(lines.filter((l) => l.msg === 'admission review')).toMatchObject([
      { level: 20, uid: 'log-allowed', operation: 'validate', kind: 'Pod', verdict: 'allowed', namespace: 'acme-prod', name: 'p', latencyMs },
      { level: 30, uid: 'log-denied', verdict: 'denied', codes: 'NI7001', latencyMs },
    ]);
    expect(lines.filter((l) => l.msg === 'bad admission request' || l.msg === 'bad request')).toMatchObject([
      { level: 40, operation: 'mutate', verdict: 'bad_request', reason: 'request is missing', latencyMs },
      { level: 40, operation: 'mutate', verdict: 'bad_request', code: 'FST_ERR_CTP_INVALID_JSON_BODY', latencyMs },
    ]);
  });

  it('drains an in-flight request on close, then refuses new connections', async () => {
    const server = await startWebhookServer({ ...options, port: 0, host: '127.0.0.1', logLevel: 'silent', compiler: fixtureCompiler });
    const body = JSON.stringify(reviewOf(pod({ name: 'p' }), { uid: 'in-flight' }));
    const half = Math.floor(body.length / 2);
    // Send the headers and half the body, close the server, then send the rest.
    const socket = connect({ host: '127.0.0.1', port: server.port, ca: ca.caPem, servername: 'localhost' });
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
    socket.write(`POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, half)}`);
    await new Promise((r) => setTimeout(r, 100));
    const closing = server.close();
    await new Promise((r) => setTimeout(r, 100));
    socket.write(body.slice(half));
    await closing;
    await waitFor('the connection to end', async () => answer.includes('"uid":"in-flight"'));
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    socket.destroy();
    await ended;
    const refused = new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: server.port, ca: ca.caPem, servername: 'localhost' }, () => resolve(s.end()));
      s.on('error', reject);
    });
    await expect(refused).rejects.toThrow(/ECONNREFUSED/);
  });
});
