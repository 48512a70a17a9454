/** fast-check arbitraries for pods aimed at the fixture IR (addresses in and out of its pools). */
import fc from 'fast-check';
import { pod } from './fixtures.js';

const ipInPools = fc.constantFrom('10.10.0.5', '10.10.0.6', '10.10.0.12', '10.10.0.44', '10.10.0.99', '10.10.1.20', '10.20.0.9', 'fd00:10::6');
const annotationValue = fc.oneof(
  ipInPools,
  fc.ipV4(),
  fc.ipV6(),
  fc.array(fc.oneof(ipInPools, fc.ipV4()), { maxLength: 3 }).map((ips) => JSON.stringify(ips)),
  fc.array(ipInPools, { minLength: 1, maxLength: 2 }).map((ips) => ips.join(',')),
  fc.constantFrom('10M', '1Gi', '500k', '51M', '0', '-1M', '1e6', 'fast', '2P', ''),
  fc.constantFrom('acme-0', 'beta-0', 'web-pool', 'mysql', 'ghost', 'storage-net', 'beta-a/beta-net@net1', '[{"name":"beta-net","namespace":"beta-a"}]', '[{}]'),
  fc.string({ maxLength: 40 }),
);
const annotationKey = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('netintent.dev/ip', 'netintent.dev/pool', 'netintent.dev/egress-gateway', 'cni.projectcalico.org/ipAddrs', 'ovn.kubernetes.io/ip_address', 'ovn.kubernetes.io/ip_pool', 'ipam.antrea.io/pod-ips', 'ipam.antrea.io/ippools', 'kubernetes.io/ingress-bandwidth', 'kubernetes.io/egress-bandwidth', 'k8s.v1.cni.cncf.io/networks') },
  // `__proto__` is refused as prototype poisoning (400); the API server never sends it as a key.
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 20 }).filter((k) => k !== '__proto__') },
);
const container = fc.record({
  name: fc.constantFrom('app', 'side'),
  image: fc.constant('x'),
  ports: fc.array(fc.record({ containerPort: fc.integer({ min: 1, max: 65535 }), hostPort: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }) }, { requiredKeys: ['containerPort'] }), { maxLength: 2 }),
  securityContext: fc.option(fc.record({ privileged: fc.boolean(), capabilities: fc.record({ add: fc.array(fc.constantFrom('NET_ADMIN', 'NET_RAW', 'CHOWN', 'cap_net_raw', 'ALL'), { maxLength: 2 }) }) }), { nil: undefined }),
});
const owner = fc.constantFrom(
  undefined,
  [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'mysql', controller: true, uid: 'a' }],
  [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9f', controller: true, uid: 'b' }],
  [{ kind: 42 }],
);
/** Pods as the API server could send them, with every annotation flavour and owner kind. */
export const podObject = fc
  .record({
    namespace: fc.constantFrom('acme-prod', 'acme-dev', 'beta-a', 'ops', 'infra', 'default'),
    name: fc.constantFrom('legacy-db', 'dual', 'mysql-0', 'mysql-3', 'mysql-9', 'web-7d9f-x', 'p', ''),
    labels: fc.dictionary(fc.constantFrom('app', 'team', 'pod-template-hash'), fc.constantFrom('web', 'api', 'db', '7d9f'), { maxKeys: 3 }),
    annotations: fc.dictionary(annotationKey, annotationValue, { maxKeys: 5 }),
    ownerReferences: owner,
    hostNetwork: fc.boolean(),
    containers: fc.array(container, { maxLength: 2 }),
  })
  .map((p) => {
    const object = pod({ name: p.name, namespace: p.namespace, labels: p.labels, annotations: p.annotations, spec: { hostNetwork: p.hostNetwork, containers: p.containers }, ...(p.ownerReferences ? { ownerReferences: [...p.ownerReferences] } : {}) });
    return JSON.parse(JSON.stringify(object)) as Record<string, unknown>;
  });
