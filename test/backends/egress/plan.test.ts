import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { egressRouteCommands, renderEgressPlan, renderEgressRoutes, renderNodeTable } from '../../../src/backends/egress/index.js';
import { loadInventory } from '../../../src/inventory/index.js';
import { compileFiles } from '../../../src/sources/index.js';
import { resolveHostInterfaces } from '../../../src/node/interfaces.js';

const inventory = loadInventory('examples/inventory.yaml', readFileSync('examples/inventory.yaml', 'utf8')).inventory;
const ir = compileFiles(['examples/07-egress-gateway/dsl']).ir!;

describe('egress gateway plan', () => {
  it('scenario 7: ordered candidates, destinations minus the excluded blocks, a content-derived mark', () => {
    const { plan, diagnostics } = renderEgressPlan(ir, inventory, 'node-1');
    expect(diagnostics).toEqual([]);
    const [gw] = plan.gateways;
    expect(gw!.candidates.map((c) => c.node)).toEqual(['gw-1', 'gw-2']);
    expect(gw!.destinations).not.toContain('10.0.0.0/8');
    expect(gw!.destinations).toContain('11.0.0.0/8');
    expect(gw!.destinations.some((d) => d.startsWith('192.168.'))).toBe(false);
    expect(gw!.mark >>> 16).toBe(0x4e49);
    expect(gw!.sources.length).toBeGreaterThan(0);
  });

  it('non-gateway nodes mark and route to the active gateway; the active gateway SNATs and holds the IP', () => {
    const node1 = renderEgressPlan(ir, inventory, 'node-1').plan;
    const gw1 = renderEgressPlan(ir, inventory, 'gw-1').plan;
    const active = new Map([['egress:finance-audit', 'gw-1']]);
    const t1 = renderNodeTable({ egress: node1, active, interfaces: [] });
    expect(t1).toMatch(/meta mark set 0x4e49/);
    expect(t1).not.toMatch(/snat ip to/);
    const tg = renderNodeTable({ egress: gw1, active, interfaces: [] });
    expect(tg).toMatch(/snat ip to 203\.0\.113\.10/);
    expect(tg).not.toMatch(/meta mark set/);
    expect(egressRouteCommands(renderEgressRoutes(node1, active))).toEqual([`ip rule add fwmark 0x${node1.gateways[0]!.mark.toString(16)} lookup ${node1.gateways[0]!.mark} priority 15000`, `ip route replace default via 10.0.0.21 table ${node1.gateways[0]!.mark}`]);
    expect(renderEgressRoutes(gw1, active).addresses).toEqual(['203.0.113.10']);
    // No healthy gateway: fail closed (unreachable), never out with the pod IP.
    expect(renderEgressRoutes(node1, new Map([['egress:finance-audit', undefined]])).routes).toEqual([{ table: node1.gateways[0]!.mark }]);
  });

  it('anti-spoofing pairs each pod interface with its own addresses only', () => {
    const t = renderNodeTable({ egress: { node: 'n', gateways: [] }, active: new Map(), interfaces: [{ pod: 'a/p', ifname: 'veth1', ips: ['10.0.0.1', 'fd00::1'] }] });
    expect(t).toContain('"veth1" . 10.0.0.1');
    expect(t).toContain('"veth1" . fd00::1');
    expect(t).toMatch(/counter drop/);
  });
});

describe('host interfaces', () => {
  const snap = {
    routes: [
      { dst: 'default', dev: 'eth0', family: 4 as const },
      { dst: '10.1.0.5', dev: 'veth5', family: 4 as const },
      { dst: '10.2.0.0/24', dev: 'cni0', family: 4 as const },
      { dst: '10.3.0.0/24', dev: 'eth1', family: 4 as const },
    ],
    links: [{ ifname: 'cni0', kind: 'bridge' }, { ifname: 'veth5', kind: 'veth' }, { ifname: 'eth0' }],
    neighbours: [{ dst: '10.2.0.7', dev: 'cni0', lladdr: 'AA:bb:cc:00:00:07' }],
    fdb: [{ mac: 'aa:bb:cc:00:00:07', ifname: 'vethb7', master: 'cni0' }],
  };
  it('ptp: the host route; bridge: the FDB port of the pod MAC; anything else: none', () => {
    expect([...resolveHostInterfaces(snap, ['10.1.0.5', '10.2.0.7', '10.2.0.8', '10.3.0.9', '10.9.9.9'])]).toEqual([
      ['10.1.0.5', 'veth5'],
      ['10.2.0.7', 'vethb7'],
    ]);
  });
});
