import { describe, expect, it } from 'vitest';
import { candidateIndexes, decideClaims, type PodFacts } from '../../../src/backends/ipam/allocation.js';
import { IpamError } from '../../../src/backends/ipam/errors.js';
import { PlanLayout } from '../../../src/backends/ipam/layout.js';
import { readAddressRequest } from '../../../src/backends/ipam/requests.js';
import { parseCidr } from '../../../src/backends/ipam/addresses.js';
import { scenarioPlan } from './fixtures/plans.js';

const layout = new PlanLayout(scenarioPlan(), { subnets: [{ cidr: parseCidr('10.10.0.0/16')!, gateway: '10.10.0.1' }], gateways: [] });

function pod(namespace: string, name: string, extra: Partial<PodFacts> = {}): PodFacts {
  return { namespace, name, uid: '', annotations: {}, namespaceLabels: { 'kubernetes.io/metadata.name': namespace }, ...extra };
}

const decide = (p: PodFacts) => decideClaims(layout, p, readAddressRequest({ annotations: p.annotations }));

function refusal(run: () => unknown): IpamError {
  try {
    run();
  } catch (e) {
    if (e instanceof IpamError) return e;
    throw e;
  }
  throw new Error('expected an IpamError');
}

describe('allocation core', () => {
  it('lays out gateway, reserved and fixed IPs out of the pools', () => {
    const web = layout.pool('pool:web-pool')!;
    expect(web.gateway).toBe('10.10.0.1');
    expect(web.space.size).toBe(11n); // .10-.20 and .30 less reserved .15
    const noSubnet = new PlanLayout(scenarioPlan(), { subnets: [], gateways: [] });
    const mysql = noSubnet.pool('pool:mysql')!;
    // Without a configured subnet the pool's own /29 is the subnet: .40 network, .41 gateway, .47 broadcast.
    expect([mysql.subnet.prefix, mysql.gateway, mysql.space.at(0n), mysql.space.size]).toEqual([29, '10.10.0.41', '10.10.0.42', 5n]);
  });

  it('gives a fixed pod its fixed IPs, one per family', () => {
    expect(decide(pod('acme-prod', 'dual'))).toMatchObject([
      { kind: 'exact', ip: '10.10.0.6', family: 4 },
      { kind: 'exact', ip: 'fd00:10::6', family: 6 },
    ]);
  });

  it('gives StatefulSet pod N the Nth usable address, sticky', () => {
    expect(decide(pod('acme-prod', 'mysql-3'))).toEqual([
      { kind: 'exact', family: 4, ip: '10.10.0.43', pool: 'pool:mysql', reason: 'ordinal 3 of StatefulSet acme-prod/mysql', sticky: { statefulSet: 'mysql', ordinal: 3 } },
    ]);
    expect(refusal(() => decide(pod('acme-prod', 'mysql-8'))).diagnostic.message).toContain('ordinal 8 is past the 8 usable addresses');
  });

  it('matches Deployment pods by owner or by name shape', () => {
    expect(decide(pod('acme-prod', 'web-5d9c7b-abcde'))).toMatchObject([{ kind: 'free', pools: [{ pool: { id: 'pool:web-pool' } }] }]);
    expect(decide(pod('acme-prod', 'x', { owner: { kind: 'ReplicaSet', name: 'web-5d9c7b' } }))).toMatchObject([{ kind: 'free', pools: [{ pool: { id: 'pool:web-pool' } }] }]);
    // web-api is another Deployment: it falls back to the tenant pools.
    expect(decide(pod('acme-prod', 'web-api-5d9c7b-abcde', { owner: { kind: 'ReplicaSet', name: 'web-api-5d9c7b' } }))).toMatchObject([
      { kind: 'free', family: 4, pools: [{ pool: { id: 'pool:tenant/acme/0' } }] },
      { kind: 'free', family: 6, pools: [{ pool: { id: 'pool:tenant/acme/1' } }] },
    ]);
  });

  it('gives pods outside tenants the shared pools', () => {
    expect(decide(pod('default', 'x'))).toMatchObject([{ kind: 'free', pools: [{ pool: { id: 'pool:shared' } }] }]);
  });

  it('honours netintent, Calico, Kube-OVN and Antrea annotations', () => {
    const ann = (annotations: Record<string, string>) => decide(pod('acme-dev', 'p', { annotations }));
    expect(ann({ 'netintent.dev/ip': '10.10.1.11' })).toMatchObject([{ kind: 'exact', ip: '10.10.1.11' }]);
    expect(ann({ 'cni.projectcalico.org/ipAddrs': '["10.10.1.12", "fd00:10::112"]' })).toMatchObject([{ ip: '10.10.1.12' }, { ip: 'fd00:10::112' }]);
    expect(ann({ 'ovn.kubernetes.io/ip_address': '10.10.1.13' })).toMatchObject([{ ip: '10.10.1.13' }]);
    expect(ann({ 'ipam.antrea.io/pod-ips': '10.10.1.14' })).toMatchObject([{ ip: '10.10.1.14' }]);
    expect(ann({ 'netintent.dev/pool': 'tenant/acme/1' })).toMatchObject([{ kind: 'free', family: 6 }]);
    expect(ann({ 'ipam.antrea.io/ippools': 'tenant/acme/0' })).toMatchObject([{ kind: 'free', family: 4 }]);
    expect(ann({ 'ovn.kubernetes.io/ip_pool': '10.10.1.15,10.10.1.16' })).toMatchObject([{ kind: 'freeOf', ips: ['10.10.1.15', '10.10.1.16'] }]);
  });

  it('takes runtimeConfig.ips before args and annotations', () => {
    const request = readAddressRequest({ runtimeIps: ['10.10.1.30/24'], argsIps: ['10.10.1.31'], annotations: { 'netintent.dev/ip': '10.10.1.32' } });
    expect(request).toEqual({ kind: 'ips', ips: ['10.10.1.30'], source: 'runtimeConfig.ips' });
  });

  it('refuses requests outside what the pod may use', () => {
    const ask = (ip: string, ns = 'acme-dev') => refusal(() => decide(pod(ns, 'p', { annotations: { 'netintent.dev/ip': ip } }))).diagnostic.message;
    expect(ask('10.10.0.5')).toContain('fixed IP of acme-prod/legacy-db');
    expect(ask('10.20.0.5')).toContain('not one this pod may use'); // shared pool, tenant pod
    expect(ask('192.168.0.1')).toContain('in no pool of the plan');
    expect(ask('10.10.1.10,10.10.1.11')).toContain('one address per IP family');
    const gatewayOfPoolSubnet = new PlanLayout(scenarioPlan(), { subnets: [], gateways: [] });
    const askMysql = (ip: string) => refusal(() => decideClaims(gatewayOfPoolSubnet, pod('acme-prod', 'mysql-0'), { kind: 'ips', ips: [ip], source: 'test' })).diagnostic.message;
    expect(askMysql('10.10.0.41')).toContain('reserved in pool "mysql" (reserved, gateway, network or broadcast address)'); // gateway of the /29
    expect(askMysql('10.10.0.47')).toContain('reserved in pool "mysql"'); // broadcast of the /29
    expect(refusal(() => decide(pod('acme-prod', 'legacy-db', { annotations: { 'netintent.dev/ip': '10.10.1.20' } }))).diagnostic.message).toContain('the plan fixes this pod');
  });

  it('starts the free search after the hint and wraps once', () => {
    expect([...candidateIndexes(5n, 2n)]).toEqual([3n, 4n, 0n, 1n, 2n]);
    expect([...candidateIndexes(3n, undefined)]).toEqual([0n, 1n, 2n]);
  });
});
