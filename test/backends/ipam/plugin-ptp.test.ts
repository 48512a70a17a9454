/**
 * The plugin under the reference `ptp` plugin, in network namespaces: a "node" namespace
 * runs ptp (so the host side of each veth lives there, not in the test machine's
 * namespace) and every pod gets its own namespace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scenarioPlan } from './fixtures/plans.js';
import { addNetns, buildPlugin, CNI_BIN_DIR, removeDir, reaches, removeNetns, requireBinary, runPlugin, tempDir, uniqueName, type PluginBuild } from './fixtures/real-parts.js';

const INVENTORY = `
apiVersion: v1
kind: Pod
metadata:
  name: web-7d9f8c6b5-abcde
  namespace: acme-prod
  uid: uid-web
  ownerReferences: [{ apiVersion: apps/v1, kind: ReplicaSet, name: web-7d9f8c6b5, controller: true }]
status: { phase: Pending }
---
apiVersion: v1
kind: Pod
metadata:
  name: mysql-2
  namespace: acme-prod
  uid: uid-mysql-2
  ownerReferences: [{ apiVersion: apps/v1, kind: StatefulSet, name: mysql, controller: true }]
status: { phase: Pending }
---
apiVersion: v1
kind: Pod
metadata:
  name: migrated
  namespace: acme-dev
  uid: uid-migrated
  annotations: { cni.projectcalico.org/ipAddrs: '["10.10.1.20"]' }
status: { phase: Pending }
`;

describe('netintent-ipam under ptp in network namespaces', () => {
  let build: PluginBuild;
  let dir: string;
  const namespaces: string[] = [];
  let node: string;
  let conf: Record<string, unknown>;
  const network = uniqueName('niit').replace(/-/g, '');

  beforeAll(() => {
    requireBinary(join(CNI_BIN_DIR, 'ptp'), 'containernetworking-plugins');
    requireBinary('/usr/bin/ip', 'iproute2');
    build = buildPlugin();
    dir = tempDir();
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(scenarioPlan()));
    writeFileSync(join(dir, 'inventory.yaml'), INVENTORY);
    node = uniqueName();
    namespaces.push(node);
    addNetns(node);
    conf = {
      cniVersion: '1.0.0',
      name: network,
      type: 'ptp',
      ipMasq: false,
      ipam: {
        type: 'netintent-ipam',
        plan: join(dir, 'plan.json'),
        inventory: join(dir, 'inventory.yaml'),
        store: { type: 'file', dir: join(dir, 'store') },
        ranges: [[{ subnet: '10.10.0.0/16', gateway: '10.10.0.1' }], [{ subnet: 'fd00:10::/64' }]],
        routes: [{ dst: '0.0.0.0/0' }],
      },
    };
  });

  afterAll(() => {
    for (const ns of namespaces) removeNetns(ns);
    if (dir) removeDir(dir);
    if (build) removeDir(build.dir);
  });

  function addPod(namespace: string, name: string, containerId: string): { netns: string; ips: string[]; status: number; stdout: string } {
    const netnsName = uniqueName();
    namespaces.push(netnsName);
    const netns = addNetns(netnsName);
    const run = runPlugin([join(CNI_BIN_DIR, 'ptp')], {
      command: 'ADD',
      containerId,
      netns,
      pod: { namespace, name },
      conf,
      inNetns: node,
      cniPath: `${build.binDir}:${CNI_BIN_DIR}`,
    });
    const ips = ((run.json?.ips as { address: string }[] | undefined) ?? []).map((i) => i.address);
    return { netns: netnsName, ips, status: run.status, stdout: run.stdout + run.stderr };
  }

  function delPod(namespace: string, name: string, containerId: string, netnsName: string): number {
    return runPlugin([join(CNI_BIN_DIR, 'ptp')], {
      command: 'DEL',
      containerId,
      netns: `/var/run/netns/${netnsName}`,
      pod: { namespace, name },
      conf,
      inNetns: node,
      cniPath: `${build.binDir}:${CNI_BIN_DIR}`,
    }).status;
  }

  /** The pod reaches its node side of the veth (ptp puts the gateway there). */
  const pings = (netnsName: string, target: string): Promise<boolean> => reaches(netnsName, node, target);

  it('gives the fixed IP and the pod reaches its node side', async () => {
    const pod = addPod('acme-prod', 'legacy-db', 'ctr-legacy-db');
    expect(pod.status, pod.stdout).toBe(0);
    expect(pod.ips).toEqual(['10.10.0.5/16']);
    const addr = execFileSync('ip', ['-n', pod.netns, '-4', '-o', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' });
    expect(addr).toContain('10.10.0.5/');
    expect(await pings(pod.netns, '10.10.0.1')).toBe(true);
  });

  it('gives a Deployment pod the first free address of its pool', async () => {
    const pod = addPod('acme-prod', 'web-7d9f8c6b5-abcde', 'ctr-web');
    expect(pod.status, pod.stdout).toBe(0);
    expect(pod.ips).toEqual(['10.10.0.10/16']);
    expect(await pings(pod.netns, '10.10.0.1')).toBe(true);
  });

  it('gives a Calico-annotated migrated pod its address from the tenant pool', async () => {
    const pod = addPod('acme-dev', 'migrated', 'ctr-migrated');
    expect(pod.status, pod.stdout).toBe(0);
    expect(pod.ips).toContain('10.10.1.20/16');
    expect(await pings(pod.netns, '10.10.0.1')).toBe(true);
  });

  it('gives a tenant pod one address per family (dual-stack)', async () => {
    const pod = addPod('acme-dev', 'tool', 'ctr-tool');
    expect(pod.status, pod.stdout).toBe(0);
    expect(pod.ips).toEqual(['10.10.1.10/16', 'fd00:10::100/64']);
    expect(await pings(pod.netns, '10.10.0.1')).toBe(true);
  });

  it('keeps StatefulSet ordinal 2 on address 2 across delete and re-add; a late DEL of the old container frees nothing', async () => {
    const first = addPod('acme-prod', 'mysql-2', 'ctr-mysql-2-a');
    expect(first.status, first.stdout).toBe(0);
    expect(first.ips).toEqual(['10.10.0.42/16']);
    expect(await pings(first.netns, '10.10.0.1')).toBe(true);
    expect(delPod('acme-prod', 'mysql-2', 'ctr-mysql-2-a', first.netns)).toBe(0);

    const again = addPod('acme-prod', 'mysql-2', 'ctr-mysql-2-b');
    expect(again.status, again.stdout).toBe(0);
    expect(again.ips).toEqual(['10.10.0.42/16']);
    expect(await pings(again.netns, '10.10.0.1')).toBe(true);

    // The runtime repeats the old DEL late: it must not free the new container's address.
    expect(delPod('acme-prod', 'mysql-2', 'ctr-mysql-2-a', first.netns)).toBe(0);
    const check = runPlugin([process.execPath, build.main], {
      command: 'CHECK',
      containerId: 'ctr-mysql-2-b',
      pod: { namespace: 'acme-prod', name: 'mysql-2' },
      conf: { ...conf, prevResult: { cniVersion: '1.0.0', ips: [{ address: '10.10.0.42/16' }] } },
    });
    expect(check.status, check.stdout).toBe(0);
  });
});
