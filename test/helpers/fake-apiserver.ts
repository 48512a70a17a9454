/**
 * A minimal Kubernetes API server for informer tests: list and watch (newline-delimited
 * JSON events over a chunked response) of core/v1 namespaces, nodes, pods and services,
 * over HTTPS (a test CA's certificate) on a free loopback port. Objects are changed by the test; every change
 * bumps the resource version and reaches the open watches.
 */
import type { Server, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

export type Resource = 'namespaces' | 'nodes' | 'pods' | 'services';
const KINDS: Record<Resource, string> = { namespaces: 'Namespace', nodes: 'Node', pods: 'Pod', services: 'Service' };

type Obj = { metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown }; [k: string]: unknown };

export class FakeApiServer {
  private server?: Server;
  private rv = 1;
  private readonly objects = new Map<Resource, Map<string, Obj>>(Object.keys(KINDS).map((r) => [r as Resource, new Map()]));
  private readonly watches = new Map<Resource, Set<ServerResponse>>(Object.keys(KINDS).map((r) => [r as Resource, new Set()]));
  /** Lists of a resource answered with HTTP 500 before the real answer. */
  readonly failLists = new Map<Resource, number>();
  readonly requests: string[] = [];
  url = '';
  private caPem = '';

  async start(tls: { cert: string; key: string; caPem: string }): Promise<void> {
    this.caPem = tls.caPem;
    this.server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      this.requests.push(`${req.method} ${url.pathname}${url.search}`);
      const m = /^\/api\/v1\/(namespaces|nodes|pods|services)$/.exec(url.pathname);
      if (!m) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 404 }));
        return;
      }
      const resource = m[1] as Resource;
      if (url.searchParams.get('watch') === 'true') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        this.watches.get(resource)!.add(res);
        req.on('close', () => this.watches.get(resource)!.delete(res));
        return;
      }
      const failures = this.failLists.get(resource) ?? 0;
      if (failures > 0) {
        this.failLists.set(resource, failures - 1);
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 500, message: 'injected failure' }));
        return;
      }
      const items = [...this.objects.get(resource)!.values()];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: `${KINDS[resource]}List`, apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items }));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `https://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** Writes a kubeconfig for this server into `dir`; returns its path. */
  kubeconfig(dir: string): string {
    const file = join(dir, 'kubeconfig');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: fake, cluster: {server: "${this.url}", certificate-authority-data: ${Buffer.from(this.caPem).toString('base64')}}}]`,
        'users: [{name: tester, user: {token: not-checked}}]',
        'contexts: [{name: fake, context: {cluster: fake, user: tester}}]',
        'current-context: fake',
        '',
      ].join('\n'),
    );
    return file;
  }

  private key(o: Obj): string {
    return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  }

  private emit(resource: Resource, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: Obj): void {
    obj.metadata.resourceVersion = String(++this.rv);
    for (const res of this.watches.get(resource)!) res.write(`${JSON.stringify({ type, object: { kind: KINDS[resource], apiVersion: 'v1', ...obj } })}\n`);
  }

  /** Adds or replaces an object (before start: part of the first list). */
  put(resource: Resource, obj: Obj): void {
    const known = this.objects.get(resource)!.has(this.key(obj));
    this.objects.get(resource)!.set(this.key(obj), obj);
    this.emit(resource, known ? 'MODIFIED' : 'ADDED', obj);
  }

  remove(resource: Resource, name: string, namespace?: string): void {
    const key = `${namespace ?? ''}/${name}`;
    const obj = this.objects.get(resource)!.get(key);
    if (!obj) return;
    this.objects.get(resource)!.delete(key);
    this.emit(resource, 'DELETED', obj);
  }

  /** Ends every open watch (as an API server does on timeout); informers must re-watch. */
  closeWatches(): void {
    for (const set of this.watches.values()) for (const res of set) res.end();
  }

  async stop(): Promise<void> {
    this.closeWatches();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
