import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ClusterInventory } from '../../src/node/cluster-inventory.js';
import { FakeApiServer } from '../helpers/fake-apiserver.js';
import { makeCa } from '../webhook/harness.js';

const pod = (name: string, ip: string, labels: Record<string, string>, node = 'n1') => ({
  metadata: { name, namespace: 'shop', uid: `uid-${name}`, labels },
  spec: { nodeName: node, containers: [{ name: 'main', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }] },
  status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
});

/** Resolves when `check` holds, polling; fails after `ms`. */
async function eventually(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('inventory from the API server (informers)', () => {
  let api: FakeApiServer;
  let dir: string;
  let source: ClusterInventory | undefined;
  const logs: string[] = [];
  let changes = 0;

  beforeEach(async () => {
    api = new FakeApiServer();
    dir = mkdtempSync(join(tmpdir(), 'ni-kubeconfig-'));
    const ca = makeCa(dir);
    await api.start({ ...ca.issue('apiserver'), caPem: ca.caPem });
    logs.length = 0;
    changes = 0;
    api.put('namespaces', { metadata: { name: 'shop', labels: { team: 'shop' } } });
    api.put('nodes', { metadata: { name: 'n1', labels: {} }, status: { addresses: [{ type: 'InternalIP', address: '192.168.0.1' }] } });
    api.put('pods', pod('web-1', '10.1.0.5', { app: 'web' }));
    api.put('services', { metadata: { name: 'web', namespace: 'shop' }, spec: { clusterIP: '10.96.0.10', selector: { app: 'web' }, ports: [{ port: 80, protocol: 'TCP' }] } });
  });

  afterEach(async () => {
    await source?.stop();
    source = undefined;
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (retryMs = 50) =>
    ClusterInventory.start({ kubeconfig: api.kubeconfig(dir), log: (l) => logs.push(l), onChange: () => changes++, retryMs });

  test('the first snapshot holds every kind, read as an inventory file would be', async () => {
    source = await start();
    const { inventory, diagnostics } = source.snapshot();
    expect(diagnostics).toEqual([]);
    expect(inventory.namespaces).toEqual([{ name: 'shop', labels: { team: 'shop', 'kubernetes.io/metadata.name': 'shop' } }]);
    expect(inventory.nodes.map((n) => [n.name, n.addresses])).toEqual([['n1', ['192.168.0.1']]]);
    expect(inventory.pods.map((p) => [p.namespace, p.name, p.ips, p.labels, p.nodeName, p.ports])).toEqual([
      ['shop', 'web-1', ['10.1.0.5'], { app: 'web' }, 'n1', [{ name: 'http', port: 8080, protocol: 'tcp' }]],
    ]);
    expect(inventory.services.map((s) => [s.name, s.clusterIps, s.selector])).toEqual([['web', ['10.96.0.10'], { app: 'web' }]]);
    expect(changes).toBe(0);
    // Lists first, then one watch per kind from the listed resource version.
    expect(api.requests.filter((r) => r.includes('watch=true')).length).toBe(4);
  });

  test('pod added, relabelled and deleted through the watch', async () => {
    source = await start();
    const v0 = source.version;
    api.put('pods', pod('web-2', '10.1.0.6', { app: 'web' }));
    await eventually(() => source!.snapshot().inventory.pods.length === 2);
    api.put('pods', pod('web-2', '10.1.0.6', { app: 'api' }));
    await eventually(() => source!.snapshot().inventory.pods.find((p) => p.name === 'web-2')?.labels.app === 'api');
    api.remove('pods', 'web-1', 'shop');
    await eventually(() => source!.snapshot().inventory.pods.map((p) => p.name).join() === 'web-2');
    expect(changes).toBeGreaterThanOrEqual(3);
    expect(source.version).toBeGreaterThan(v0);
  });

  test('not ready until every kind is listed: failed lists are retried with backoff', async () => {
    api.failLists.set('pods', 2);
    source = await start(20);
    expect(source.snapshot().inventory.pods.map((p) => p.name)).toEqual(['web-1']);
    expect(logs.filter((l) => l.startsWith('Pod informer:')).length).toBe(2);
  });

  test('a watch the server ends is re-established and changes keep arriving', async () => {
    source = await start();
    api.closeWatches();
    await eventually(() => api.requests.filter((r) => r.includes('watch=true')).length >= 8);
    api.put('namespaces', { metadata: { name: 'shop', labels: { team: 'payments' } } });
    await eventually(() => source!.snapshot().inventory.namespaces[0]?.labels.team === 'payments');
  });
});
