/**
 * Test plumbing for the webhook: throwaway ECDSA P-256 certificates made with the
 * openssl CLI, a stand-in intent compiler reading IR fixtures as JSON, and an HTTPS
 * client trusting the test CA.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Agent, request } from 'undici';
import { diag } from '../../src/diagnostics/diagnostic.js';
import type { Ir } from '../../src/ir/types.js';
import type { CompileResult, IntentCompiler } from '../../webhook/index.js';

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `netintent-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const openssl = (args: string[], cwd: string): void => {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
};

export interface TestCa {
  dir: string;
  caPem: string;
  /** Issues a server certificate for 127.0.0.1/localhost; returns the PEM texts. */
  issue(name: string): { cert: string; key: string };
}

export function makeCa(dir: string): TestCa {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '2', '-subj', '/CN=netintent-test-ca', '-out', 'ca.crt'], dir);
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  return {
    dir,
    caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    issue(name) {
      openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
      openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`], dir);
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-sha256', '-extfile', 'san.cnf', '-out', `${name}.crt`], dir);
      return { cert: readFileSync(join(dir, `${name}.crt`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8') };
    },
  };
}

/** SHA-256 fingerprint of the certificate a fresh TLS handshake is served. */
export function servedFingerprint(port: number, caPem: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: caPem, servername: 'localhost' }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fp);
    });
    socket.on('error', reject);
  });
}

function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).sort().flatMap((name) => filesUnder(join(path, name)));
}

/**
 * Stand-in for src/sources until it lands: each path holds an IR as JSON; a file whose
 * JSON has `"broken": "why"` fails to compile. IntentSet texts containing `bad-intent` fail;
 * those containing `shadowed-intent` get a warning whose message is longer than Kubernetes shows.
 */
export const fixtureCompiler: IntentCompiler = {
  compileFiles(paths: string[]): CompileResult {
    const files = paths.flatMap(filesUnder).filter((f) => f.endsWith('.json'));
    if (files.length === 0) return { ir: undefined, diagnostics: [diag('NI9002', undefined, [paths.join(', ')])] };
    const text = readFileSync(files[0]!, 'utf8');
    let parsed: Ir & { broken?: string };
    try {
      parsed = JSON.parse(text) as Ir & { broken?: string };
    } catch (e) {
      return { ir: undefined, diagnostics: [diag('NI1101', { file: files[0]!, start: { line: 1, col: 1, offset: 0 }, end: { line: 1, col: 2, offset: 1 } }, [(e as Error).message])] };
    }
    if (parsed.broken) {
      return { ir: undefined, diagnostics: [diag('NI2001', { file: files[0]!, start: { line: 4, col: 7, offset: 50 }, end: { line: 4, col: 10, offset: 53 } }, ['group', parsed.broken])] };
    }
    return { ir: parsed, diagnostics: [] };
  },
  compileTexts(files) {
    const span = (path: string) => ({ file: path, start: { line: 6, col: 5, offset: 60 }, end: { line: 6, col: 15, offset: 70 } });
    const diagnostics = files.flatMap((f) => [
      ...(f.text.includes('bad-intent') ? [diag('NI2001', span(f.path), ['group', 'bad-intent'])] : []),
      ...(f.text.includes('shadowed-intent') ? [diag('NI4003', span(f.path), [`rule "shadowed-intent" of policy ${'long-policy-name-'.repeat(8)}`])] : []),
    ]);
    return { ir: undefined, diagnostics };
  },
};

export interface HttpsClient {
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; contentType: string | undefined; text: string; json: () => any }>;
  get(path: string): Promise<{ status: number; text: string }>;
  close(): Promise<void>;
}

export function httpsClient(baseUrl: string, caPem: string): HttpsClient {
  const dispatcher = new Agent({ connect: { ca: caPem, servername: 'localhost' } });
  const send = async (method: 'GET' | 'POST', path: string, body?: string, headers: Record<string, string> = {}) => {
    const res = await request(`${baseUrl}${path}`, { method, dispatcher, ...(body !== undefined ? { body, headers: { 'content-type': 'application/json', ...headers } } : {}) });
    const text = await res.body.text();
    return { status: res.statusCode, contentType: res.headers['content-type'] as string | undefined, text, json: () => JSON.parse(text) };
  };
  return {
    post: (path, body, headers) => send('POST', path, typeof body === 'string' ? body : JSON.stringify(body), headers),
    get: (path) => send('GET', path),
    close: () => dispatcher.close(),
  };
}

export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
