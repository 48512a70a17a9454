import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/index.js';

const TEXT = `
apiVersion: v1
kind: Pod
metadata: { name: pending, namespace: ns, uid: u1 }
status: { phase: Pending }
---
apiVersion: v1
kind: Pod
metadata: { name: done, namespace: ns }
status: { phase: Succeeded }
`;

describe('loadInventory: pods without IPs', () => {
  it('leaves them out by default, with a warning', () => {
    const { inventory, diagnostics } = loadInventory('inv.yaml', TEXT);
    expect(inventory.pods).toEqual([]);
    expect(diagnostics.map((d) => d.code)).toEqual(['NI6002']);
  });

  it('keeps pending pods (not finished ones) when asked, as the IPAM plugin does', () => {
    const { inventory, diagnostics } = loadInventory('inv.yaml', TEXT, { keepPodsWithoutIps: true });
    expect(inventory.pods.map((p) => [p.name, p.uid, p.ips])).toEqual([['pending', 'u1', []]]);
    expect(diagnostics).toEqual([]);
  });
});
