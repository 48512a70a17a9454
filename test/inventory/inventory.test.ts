import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/index.js';

const exampleText = readFileSync(new URL('../../examples/inventory.yaml', import.meta.url), 'utf8');

describe('inventory loader', () => {
  it('reads a kubectl v1 List: namespaces, nodes, pods with IPs, ports, owners, secondary networks', () => {
    const { inventory, diagnostics } = loadInventory('inventory.yaml', exampleText);
    expect(diagnostics).toEqual([]);
    expect(inventory.nodes.map((n) => n.name)).toEqual(['gw-1', 'gw-2', 'node-1', 'node-2']);
    const mysql = inventory.pods.find((p) => p.name === 'mysql-0')!;
    expect(mysql).toMatchObject({ namespace: 'shop-prod', nodeName: 'node-2', ips: ['10.20.0.41'], owner: { kind: 'StatefulSet', name: 'mysql' } });
    expect(mysql.ports).toEqual([{ name: 'mysql', port: 3306, protocol: 'tcp' }]);
    const client = inventory.pods.find((p) => p.name === 'client-1')!;
    expect(client.networks).toEqual([{ name: 'storage/storage-net', interface: 'net1', ips: ['192.168.77.10'], default: false }]);
    expect(inventory.namespaces.find((n) => n.name === 'beta-prod')!.labels).toMatchObject({ team: 'beta', 'kubernetes.io/metadata.name': 'beta-prod' });
    expect(inventory.services[0]).toMatchObject({ name: 'kube-dns', clusterIps: ['10.96.0.10'], selector: { 'k8s-app': 'kube-dns' } });
  });

  it('reads multi-document YAML and JSON alike', () => {
    const yaml = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nstatus: {podIPs: [{ip: 10.0.0.1}, {ip: "fd00::1"}]}\n';
    const json = JSON.stringify({ kind: 'List', items: [{ kind: 'Namespace', metadata: { name: 'a' } }, { kind: 'Pod', metadata: { name: 'p', namespace: 'a' }, status: { podIPs: [{ ip: '10.0.0.1' }, { ip: 'fd00::1' }] } }] });
    const a = loadInventory('i.yaml', yaml);
    const b = loadInventory('i.json', json);
    expect(a.inventory).toEqual(b.inventory);
    expect(a.inventory.pods[0]!.ips).toEqual(['10.0.0.1', 'fd00::1']);
  });

  it('reports pods without an IP and leaves them out; bad objects name the object and field', () => {
    const yaml = [
      'kind: Pod\nmetadata: {name: pending, namespace: a}\nstatus: {phase: Pending}',
      'kind: Pod\nmetadata: {namespace: a}',
      'kind: Pod\nmetadata: {name: bad, namespace: a}\nstatus: {podIPs: [{ip: 999.1.1.1}, {ip: 10.0.0.2}]}',
      'kind: Pod\nmetadata: {name: ns, namespace: a, annotations: {k8s.v1.cni.cncf.io/network-status: "{oops"}}\nstatus: {podIP: 10.0.0.3}',
    ].join('\n---\n');
    const { inventory, diagnostics } = loadInventory('i.yaml', yaml);
    expect(inventory.pods.map((p) => p.name)).toEqual(['bad', 'ns']);
    const messages = diagnostics.map((d) => `${d.code} ${d.span?.start.line}: ${d.message}`);
    expect(messages).toEqual([
      'NI6002 1: Pod a/pending has no IP yet; it is left out.',
      expect.stringMatching(/^NI6001 5: .*metadata\.name is missing/),
      expect.stringMatching(/^NI6001 8: .*Pod a\/bad: status\.podIPs has an invalid entry/),
      expect.stringMatching(/^NI6004 12: Pod a\/ns: unreadable network-status annotation/),
    ]);
  });

  it('YAML syntax errors are diagnostics, not exceptions', () => {
    const { diagnostics } = loadInventory('i.yaml', 'kind: [unclosed\n');
    expect(diagnostics[0]?.code).toBe('NI6001');
  });
});
