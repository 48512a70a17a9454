/**
 * Node lab, the agent on a real node namespace: anti-spoofing, drift repair, restart
 * without flapping, pod churn as element updates, faults that keep the last good state,
 * and secondary networks (Multus) kept apart from the primary one.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { NodeAgent } from '../../src/node/index.js';
import { NodeRulesetState, renderNodeRuleset } from '../../src/backends/nftables/index.js';
import { emptyIr, group, pod, podsIn, rule, tcp } from '../fixtures/ir.js';
import type { Ir } from '../../src/ir/types.js';
import type { Inventory, InventoryPod } from '../../src/inventory/index.js';
import { EXT_IP, Lab, LAB_PORTS, NODE_IP, requireTools } from '../lab/netns.js';
import { nsExec, pingRtts } from './traffic.js';

const M = 1_000_000;
const TOOLS = { nft: 'nftables', ip: 'iproute2', tc: 'iproute2', ping: 'iputils-ping' };
const ns = { name: 'app', labels: { 'kubernetes.io/metadata.name': 'app' } };
const node = { name: 'n1', labels: {}, addresses: [NODE_IP], podCidrs: [] };
const p0 = pod({ ns: 'app', name: 'p0', ip: '10.123.2.10', labels: { app: 'p0' }, node: 'n1' });
const p1 = pod({ ns: 'app', name: 'p1', ip: '10.123.2.11', labels: { app: 'p1' }, node: 'n1' });
const inventory: Inventory = { namespaces: [ns], pods: [p0, p1], nodes: [node], services: [] };

function limits(r0: number, r1: number): Ir {
  const ir = emptyIr();
  ir.groups.push(group('p0', [podsIn(['app'], { app: 'p0' })]), group('p1', [podsIn(['app'], { app: 'p1' })]));
  ir.rateLimits.push({ id: 'rate:p0', name: 'p0', pods: ['group:p0'], ingressBps: r0, egressBps: r0 }, { id: 'rate:p1', name: 'p1', pods: ['group:p1'], ingressBps: r1, egressBps: r1 });
  return ir;
}

const tc = (lab: Lab, ...args: string[]): string => nsExec(lab.nodeNs, ['tc', ...args]);
const sentBytes = (lab: Lab, dev: string): number => Number(/Sent (\d+) bytes/.exec(tc(lab, '-s', 'qdisc', 'show', 'dev', dev, 'root'))?.[1] ?? -1);
const classRate = (lab: Lab, dev: string): string => / rate (\S+)/.exec(tc(lab, 'class', 'show', 'dev', dev))?.[1] ?? '';

describe('node lab: the agent', () => {
  let lab: Lab | undefined;
  let agent: NodeAgent;
  const ir = limits(10 * M, 20 * M);

  beforeAll(async () => {
    requireTools(TOOLS);
    lab = await Lab.create(inventory, 'n1');
    agent = new NodeAgent({ node: 'n1', netns: lab.nodeNs });
    const r = await agent.apply(ir, inventory);
    expect(r.ok, JSON.stringify(r.diagnostics)).toBe(true);
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('drops packets from a pod interface whose source is not one of the pod IPs', () => {
    const podNs = lab!.hosts.get('app/p0')!;
    nsExec(podNs, ['ip', 'addr', 'add', '10.123.9.9/32', 'dev', 'eth0']);
    nsExec(lab!.extNs, ['nft', '-f', '-'], 'table inet seen {\n\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n\t\tip saddr 10.123.9.9 counter\n\t}\n}\n');
    expect(pingRtts(podNs, EXT_IP, 3, '10.123.9.9')).toEqual([]);
    expect(nsExec(lab!.extNs, ['nft', 'list', 'table', 'inet', 'seen'])).toMatch(/counter packets 0 /);
    expect(nsExec(lab!.nodeNs, ['nft', 'list', 'chain', 'inet', 'netintent_node', 'antispoof'])).toMatch(/counter packets [1-9]/);
    expect(pingRtts(podNs, EXT_IP, 2, '10.123.2.10').length).toBeGreaterThan(0);
  });

  it('repairs tables, qdiscs and class rates changed behind its back, and says what it repaired', async () => {
    execFileSync('ip', ['netns', 'exec', lab!.nodeNs, 'tc', 'qdisc', 'del', 'dev', 'h0', 'root']);
    execFileSync('ip', ['netns', 'exec', lab!.nodeNs, 'tc', 'class', 'change', 'dev', 'h1', 'parent', '1a1e:', 'classid', '1a1e:1', 'htb', 'rate', '1mbit', 'ceil', '1mbit']);
    execFileSync('ip', ['netns', 'exec', lab!.nodeNs, 'nft', 'delete', 'table', 'inet', 'netintent_node']);
    execFileSync('ip', ['netns', 'exec', lab!.nodeNs, 'nft', 'add', 'rule', 'inet', 'netintent', 'forward', 'accept']);
    const { repaired } = await agent.checkDrift();
    expect(repaired).toEqual(expect.arrayContaining(['table inet netintent', 'table inet netintent_node', 'tc on h0', 'tc on h1']));
    expect(classRate(lab!, 'h0')).toBe('10Mbit');
    expect(classRate(lab!, 'h1')).toBe('20Mbit');
    expect(nsExec(lab!.nodeNs, ['nft', 'list', 'tables'])).toMatch(/netintent_node/);
    expect((await agent.checkDrift()).repaired).toEqual([]);
  });

  it('a restarted agent converges without changing or resetting anything', async () => {
    const listing = nsExec(lab!.nodeNs, ['nft', '-s', 'list', 'ruleset']);
    nsExec(lab!.hosts.get('app/p0')!, ['ping', '-c', '3', '-i', '0.2', EXT_IP]);
    const before = sentBytes(lab!, 'h0');
    const fresh = new NodeAgent({ node: 'n1', netns: lab!.nodeNs });
    const r = await fresh.apply(ir, inventory);
    expect(r.ok).toBe(true);
    expect(r.tc.removed).toEqual([]);
    expect(nsExec(lab!.nodeNs, ['nft', '-s', 'list', 'ruleset'])).toBe(listing);
    // The root qdisc kept its counters: it was changed in place, not recreated.
    expect(sentBytes(lab!, 'h0')).toBeGreaterThanOrEqual(before);
    expect(before).toBeGreaterThan(0);
    expect((await fresh.checkDrift()).repaired).toEqual([]);
    agent = fresh;
  });

  it('pod churn: set elements only, from the changed pods (no rebuild); a pod without an interface (or one that vanished) is skipped, not fatal', async () => {
    const ghost: InventoryPod = pod({ ns: 'app', name: 'ghost', ip: '10.123.2.99', labels: { app: 'p0' }, node: 'n1' });
    const builds = vi.spyOn(NodeRulesetState, 'build');
    // Intents compiled again and inventory read again: equal objects, not the same ones.
    const r = await agent.apply(structuredClone(ir), structuredClone({ ...inventory, pods: [...inventory.pods, ghost] }));
    expect(builds).not.toHaveBeenCalled();
    builds.mockRestore();
    expect(r.ok).toBe(true);
    expect(r.nft).toBe('elements');
    expect(r.tc.skipped).toEqual(['app/ghost']);
    expect(r.diagnostics.map((d) => d.code)).toContain('NI8202');
    expect((await agent.apply(ir, inventory)).nft).toBe('elements');
  });

  it('nft failing keeps the last good state of both tables, applies nothing after it, and the drift check repairs', async () => {
    await agent.checkDrift(); // settled: the agent holds listings of what it applied
    execFileSync('ip', ['netns', 'exec', lab!.nodeNs, 'nft', 'delete', 'table', 'inet', 'netintent']);
    const ghost: InventoryPod = pod({ ns: 'app', name: 'ghost', ip: '10.123.2.98', labels: { app: 'p1' }, node: 'n1' });
    const before = classRate(lab!, 'h0');
    // Pod churn renders an element update, which cannot apply to a table that is gone.
    const r = await agent.apply(ir, { ...inventory, pods: [...inventory.pods, ghost] });
    expect(r.ok).toBe(false);
    expect(r.nft).toBe('failed');
    expect(r.diagnostics.find((d) => d.code === 'NI8203')?.message).toMatch(/nft \(elements/);
    expect(classRate(lab!, 'h0')).toBe(before); // tc comes after nft: untouched
    const { repaired } = await agent.checkDrift();
    expect(repaired).toContain('table inet netintent');
    expect(nsExec(lab!.nodeNs, ['nft', 'list', 'tables'])).toMatch(/table inet netintent\n/);
    expect((await agent.apply(ir, inventory)).ok).toBe(true);
  });

  it('tc failing half way keeps the last good shaping of that pod, reports it, and still applies the others', async () => {
    // Another tool holds the ingress hook of p1's interface: our egress redirect cannot go there.
    nsExec(lab!.nodeNs, ['tc', 'qdisc', 'del', 'dev', 'h1', 'ingress']);
    nsExec(lab!.nodeNs, ['tc', 'qdisc', 'add', 'dev', 'h1', 'clsact']);
    try {
      const r = await agent.apply(limits(12 * M, 30 * M), inventory);
      expect(r.ok).toBe(false);
      expect(r.tc.failed).toEqual(['app/p1']);
      expect(r.tc.applied).toEqual(['app/p0']);
      expect(r.diagnostics.find((d) => d.code === 'NI8203')?.message).toMatch(/app\/p1/);
      expect(classRate(lab!, 'h0')).toBe('12Mbit');
      expect(classRate(lab!, 'h1')).toBe('20Mbit');
    } finally {
      nsExec(lab!.nodeNs, ['tc', 'qdisc', 'del', 'dev', 'h1', 'clsact']);
    }
    const r = await agent.apply(limits(12 * M, 30 * M), inventory);
    expect(r.ok).toBe(true);
    expect(classRate(lab!, 'h1')).toBe('30Mbit');
  });

  it('removing the intents removes every qdisc and ifb', async () => {
    const r = await agent.apply(emptyIr(), inventory);
    expect(r.tc.removed).toEqual(['h0', 'h1']);
    for (const dev of ['h0', 'h1']) expect(tc(lab!, 'qdisc', 'show', 'dev', dev)).not.toMatch(/htb|ingress/);
    expect(nsExec(lab!.nodeNs, ['ip', '-o', 'link', 'show', 'type', 'ifb'])).toBe('');
  });
});

/** One TCP connect from `from` with a chosen source address; true when the lab server answered. */
function connectFrom(nsName: string, localAddress: string, host: string, port: number): boolean {
  const script = `const s=require('net').connect({host:'${host}',port:${port},localAddress:'${localAddress}'});s.setTimeout(1500,()=>process.exit(2));s.on('data',()=>process.exit(0));s.on('error',()=>process.exit(3));`;
  return spawnSync('ip', ['netns', 'exec', nsName, process.execPath, '-e', script], { timeout: 10_000 }).status === 0;
}

describe('node lab: secondary networks', () => {
  let lab: Lab | undefined;
  const withNet = (p: InventoryPod, ip: string): InventoryPod => ({ ...p, networks: [{ name: 'storage/storage-net', interface: 'net1', ips: [ip], default: false }] });
  const client = withNet(pod({ ns: 'storage', name: 'client', ip: '10.123.3.10', labels: { role: 'client' }, node: 'n1' }), '192.168.77.10');
  const server = withNet(pod({ ns: 'storage', name: 'server', ip: '10.123.3.20', labels: { role: 'server' }, node: 'n1' }), '192.168.77.20');
  const inv: Inventory = { namespaces: [{ name: 'storage', labels: { 'kubernetes.io/metadata.name': 'storage' } }], pods: [client, server], nodes: [node], services: [] };

  beforeAll(async () => {
    requireTools(TOOLS);
    lab = await Lab.create(inv, 'n1');
    // The secondary addresses ride on the same veth here, routed by the node like the primary ones.
    [client, server].forEach((p, i) => {
      nsExec(lab!.hosts.get(`storage/${p.name}`)!, ['ip', 'addr', 'add', `${p.networks[0]!.ips[0]}/32`, 'dev', 'eth0']);
      nsExec(lab!.nodeNs, ['ip', 'route', 'add', `${p.networks[0]!.ips[0]}/32`, 'dev', `h${i}`]);
    });
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('"ns/name" in network-status matches the intent network "name"; primary-network traffic is untouched', async () => {
    const ir = emptyIr();
    const onNet = (role: string) => ({ ...podsIn(['storage'], { role }), network: 'storage-net' });
    ir.groups.push(group('clients', [onNet('client')]), group('servers', [onNet('server')]));
    ir.rules.push(rule({ policy: 'storage', index: 0, action: 'allow', from: ['group:clients'], to: ['group:servers'], ports: [tcp(LAB_PORTS[0])] }), rule({ policy: 'storage', index: 1, action: 'deny', from: ['group:any'], to: ['group:servers'] }));
    expect((await lab!.apply(renderNodeRuleset(ir, inv, 'n1').script)).ok).toBe(true);
    const cNs = lab!.hosts.get('storage/client')!;
    expect(connectFrom(cNs, '192.168.77.10', '192.168.77.20', LAB_PORTS[0]!)).toBe(true); // allowed on the network
    expect(connectFrom(cNs, '192.168.77.10', '192.168.77.20', LAB_PORTS[1]!)).toBe(false); // denied on the network
    expect(connectFrom(cNs, '10.123.3.10', '10.123.3.20', LAB_PORTS[1]!)).toBe(true); // primary: no rule leaks here
    expect(connectFrom(cNs, '10.123.3.10', '192.168.77.20', LAB_PORTS[0]!)).toBe(false); // a primary IP is no client on the network
  });
});
