import { describe, expect, it } from 'vitest';
import { parseAdmissionReview, review, type AdmissionContext, type AdmissionOperation, type CompileTexts } from '../../src/admission/index.js';
import { diag } from '../../src/diagnostics/diagnostic.js';
import { fixtureContext, fixtureIr, INTENT_SET_KIND, NETWORK_POLICY_KIND, networkPolicy, pod, reviewOf, type PodOptions } from './fixtures.js';

const ir = fixtureIr();

function admit(body: Record<string, unknown>, operation: AdmissionOperation = 'validate', context: AdmissionContext = fixtureContext()) {
  const parsed = parseAdmissionReview(body);
  if ('error' in parsed) throw new Error(parsed.error);
  return review(ir, context, parsed.request, { operation });
}

const validatePod = (o: PodOptions) => admit(reviewOf(pod(o))).response;

function expectDenied(response: ReturnType<typeof validatePod>, code: string, ...fragments: string[]): void {
  expect(response.allowed).toBe(false);
  expect(response.status?.code).toBe(403);
  expect(response.status?.message).toContain(code);
  for (const f of fragments) expect(response.status?.message).toContain(f);
  expect(response.auditAnnotations?.codes).toContain(code);
  expect(response.patch).toBeUndefined();
}

describe('response contract', () => {
  it('echoes uid, apiVersion and kind, and allows a plain pod without patch or warnings', () => {
    const out = admit(reviewOf(pod({ name: 'plain' }), { uid: 'abc-123' }));
    expect(out).toEqual({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'abc-123', allowed: true } });
  });

  it('rejects structurally invalid reviews with a reason', () => {
    const cases: [unknown, string][] = [
      [[], 'not a JSON object'],
      [{ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: {} }, 'expected apiVersion'],
      [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, 'request is missing'],
      [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { kind: { kind: 'Pod', version: 'v1' } } }, 'uid'],
      [{ ...reviewOf(pod()), request: { ...(reviewOf(pod()).request as object), operation: 'PATCH' } }, 'operation'],
      [{ ...reviewOf(pod()), request: { ...(reviewOf(pod()).request as object), object: 'x' } }, 'request.object'],
    ];
    for (const [body, reason] of cases) {
      const parsed = parseAdmissionReview(body);
      expect('error' in parsed && parsed.error).toContain(reason);
    }
  });

  it('allows kinds it does not review, with a warning of at most 120 characters', () => {
    const out = admit(reviewOf({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x'.repeat(300) } }, { kind: { group: 'a-very-long-api-group.example.com'.repeat(5), version: 'v1', kind: 'ConfigMap' } })).response;
    expect(out.allowed).toBe(true);
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings![0]!.length).toBeLessThanOrEqual(120);
    expect(out.warnings![0]).toMatch(/^NI7015/);
  });

  it('allows DELETE and pod UPDATE without looking at the object', () => {
    expect(admit(reviewOf(null, { operation: 'DELETE' })).response.allowed).toBe(true);
    expect(admit(reviewOf(pod({ name: 'x', spec: { hostNetwork: true } }), { operation: 'UPDATE' })).response.allowed).toBe(true);
  });

  it('gives the same answer for dryRun', () => {
    const object = pod({ name: 'x', spec: { hostNetwork: true, containers: [] } });
    const a = admit(reviewOf(object, { uid: 'same' }));
    const b = admit(reviewOf(object, { uid: 'same', dryRun: true }));
    expect(b).toEqual(a);
  });
});

describe('host access in isolated tenants (NI7001)', () => {
  const container = (extra: Record<string, unknown>) => ({ containers: [{ name: 'app', image: 'x', ...extra }] });
  const cases: [string, Record<string, unknown>, string][] = [
    ['hostNetwork', { hostNetwork: true, containers: [] }, 'spec.hostNetwork'],
    ['hostPort', container({ ports: [{ containerPort: 80 }, { containerPort: 443, hostPort: 443 }] }), 'spec.containers[0].ports[1].hostPort'],
    ['NET_ADMIN', container({ securityContext: { capabilities: { add: ['CHOWN', 'NET_ADMIN'] } } }), 'spec.containers[0].securityContext.capabilities.add[1]'],
    ['CAP_NET_RAW', container({ securityContext: { capabilities: { add: ['CAP_NET_RAW'] } } }), 'spec.containers[0].securityContext.capabilities.add[0]'],
    ['privileged', container({ securityContext: { privileged: true } }), 'spec.containers[0].securityContext.privileged'],
    ['init container NET_ADMIN', { containers: [], initContainers: [{ name: 'i', securityContext: { capabilities: { add: ['NET_ADMIN'] } } }] }, 'spec.initContainers[0].securityContext.capabilities.add[0]'],
  ];
  for (const [what, spec, field] of cases) {
    it(`denies ${what} in a strict tenant, naming field, intent and fix`, () => {
      expectDenied(validatePod({ name: 'p', spec }), 'NI7001', field, 'tenant "acme"', 'intents/acme.intent:3', 'allow host-access');
    });
  }
  it('allows host access where the tenant allows it, where isolation is none, and outside tenants', () => {
    const spec = { hostNetwork: true, containers: [{ name: 'a', ports: [{ containerPort: 1, hostPort: 1 }], securityContext: { capabilities: { add: ['NET_ADMIN'] } } }] };
    expect(validatePod({ name: 'p', namespace: 'infra', spec }).allowed).toBe(true);
    expect(validatePod({ name: 'p', namespace: 'ops', spec }).allowed).toBe(true);
    expect(validatePod({ name: 'p', namespace: 'default', spec }).allowed).toBe(true);
    expect(validatePod({ name: 'p', spec: { containers: [{ name: 'a', ports: [{ containerPort: 80 }], securityContext: { capabilities: { add: ['CHOWN'] } } }] } }).allowed).toBe(true);
  });
  it('checks ephemeral containers that kubectl debug adds (pods/ephemeralcontainers UPDATE), new ones only', () => {
    const debug = (name: string, caps: string[]) => ({ name, image: 'busybox', securityContext: { capabilities: { add: caps } } });
    const before = pod({ name: 'p', spec: { containers: [{ name: 'app' }], ephemeralContainers: [debug('old', ['NET_ADMIN'])] } });
    const after = (namespace: string, caps: string[]) =>
      pod({ name: 'p', namespace, spec: { containers: [{ name: 'app' }], ephemeralContainers: [debug('old', ['NET_ADMIN']), debug('new', caps)] } });
    const update = (namespace: string, caps: string[]) =>
      admit(reviewOf(after(namespace, caps), { operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject: { ...before, metadata: { ...(before.metadata as object), namespace } } })).response;
    expectDenied(update('acme-prod', ['NET_RAW']), 'NI7001', 'spec.ephemeralContainers[1].securityContext.capabilities.add[0]');
    expect(update('acme-prod', ['SYS_PTRACE']).allowed).toBe(true);
    expect(update('ops', ['NET_RAW']).allowed).toBe(true);
  });
  it('denies host access in a default-isolation tenant selected by namespace labels', () => {
    expectDenied(validatePod({ name: 'p', namespace: 'beta-b', spec: { hostNetwork: true, containers: [] } }), 'NI7001', 'tenant "beta"', 'isolation default', 'intents/acme.intent:12');
  });
});

describe('fixed-IP requests', () => {
  const webOwner = { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9f', controller: true, uid: 'u' }], labels: { app: 'web', 'pod-template-hash': '7d9f' } };
  it('allows an address inside the tenant pools', () => {
    const requests: Record<string, string>[] = [
      { 'netintent.dev/ip': '10.10.0.99' },
      { 'cni.projectcalico.org/ipAddrs': '["10.10.1.20"]' },
      { 'ovn.kubernetes.io/ip_address': '10.10.0.100/24' },
      { 'ipam.antrea.io/pod-ips': '10.10.0.101' },
      { 'ovn.kubernetes.io/ip_pool': '10.10.0.102,10.10.0.103' },
    ];
    for (const annotations of requests) {
      expect(validatePod({ name: 'p', annotations }).allowed, JSON.stringify(annotations)).toBe(true);
    }
  });
  it('denies addresses outside the tenant pools, in every annotation flavour (NI7002)', () => {
    for (const key of ['netintent.dev/ip', 'ovn.kubernetes.io/ip_address', 'ipam.antrea.io/pod-ips']) {
      expectDenied(validatePod({ name: 'p', annotations: { [key]: '10.99.0.1' } }), 'NI7002', `metadata.annotations["${key}"]`, '10.99.0.1', 'tenant "acme"', 'intents/acme.intent:3', '10.10.0.0-10.10.0.255');
    }
    expectDenied(validatePod({ name: 'p', annotations: { 'cni.projectcalico.org/ipAddrs': '["10.20.0.5"]' } }), 'NI7002', 'cni.projectcalico.org/ipAddrs');
  });
  it('denies an address the intents give to another pod or workload (NI7005)', () => {
    expectDenied(validatePod({ name: 'p', annotations: { 'netintent.dev/ip': '10.10.0.5' } }), 'NI7005', 'pod acme-prod/legacy-db', 'intents/acme.intent:33');
    expectDenied(validatePod({ name: 'p', namespace: 'default', annotations: { 'ovn.kubernetes.io/ip_address': 'fd00:10:0:0::6' } }), 'NI7005', 'pod acme-prod/dual');
    expectDenied(validatePod({ name: 'p', annotations: { 'netintent.dev/ip': '10.10.0.12' } }), 'NI7005', 'Deployment acme-prod/web', 'intents/acme.intent:30');
    expectDenied(validatePod({ name: 'mysql-0', annotations: { 'netintent.dev/ip': '10.10.0.44' } }), 'NI7005', 'StatefulSet acme-prod/mysql');
  });
  it('allows the owner its own addresses', () => {
    expect(validatePod({ name: 'legacy-db', annotations: { 'netintent.dev/ip': '10.10.0.5' } }).allowed).toBe(true);
    expect(validatePod({ generateName: 'web-7d9f-', ...webOwner, annotations: { 'netintent.dev/ip': '10.10.0.12' } }).allowed).toBe(true);
    const sts = { ownerReferences: [{ kind: 'StatefulSet', name: 'mysql', controller: true }] };
    expect(validatePod({ name: 'mysql-2', ...sts, annotations: { 'netintent.dev/ip': '10.10.0.43' } }).allowed).toBe(true);
  });
  it('denies a pod asking for another address than the intents give it (NI7007)', () => {
    expectDenied(validatePod({ name: 'legacy-db', annotations: { 'netintent.dev/ip': '10.10.0.7' } }), 'NI7007', '10.10.0.5', 'intents/acme.intent:33');

  });
  it('holds requests to the pools the IPAM plugin would use: none for a tenant without pools (NI7002), no reserved address (NI7017), no tenant pool for a pod in no tenant (NI7018)', () => {
    expectDenied(validatePod({ name: 'p', namespace: 'infra', annotations: { 'netintent.dev/ip': '10.30.0.1' } }), 'NI7002', 'tenant "infra"', 'it declares none yet');
    expectDenied(validatePod({ generateName: 'web-7d9f-', ...webOwner, annotations: { 'netintent.dev/ip': '10.10.0.15' } }), 'NI7017', 'pool "web-pool" reserves', 'intents/acme.intent:30');
    expectDenied(validatePod({ name: 'p', namespace: 'default', annotations: { 'netintent.dev/ip': '10.20.0.9' } }), 'NI7018', 'pool "beta-0" of tenant "beta"', 'intents/acme.intent:12');
    expect(validatePod({ name: 'p', namespace: 'default', annotations: { 'netintent.dev/ip': '192.0.2.7' } }).allowed).toBe(true);
  });
  it('denies malformed address annotations (NI7008)', () => {
    expectDenied(validatePod({ name: 'p', annotations: { 'cni.projectcalico.org/ipAddrs': '10.10.0.9' } }), 'NI7008', 'JSON list');
    expectDenied(validatePod({ name: 'p', annotations: { 'netintent.dev/ip': '10.10.0.300' } }), 'NI7008', '"10.10.0.300" is not an IP address');
  });
  it('checks pool requests: unknown (NI7004), another tenant (NI7003), another workload (NI7006)', () => {
    expectDenied(validatePod({ name: 'p', annotations: { 'netintent.dev/pool': 'nope' } }), 'NI7004', 'acme-0');
    expectDenied(validatePod({ name: 'p', annotations: { 'netintent.dev/pool': 'beta-0' } }), 'NI7003', 'tenant "acme"', 'intents/acme.intent:3', 'acme-0');
    expectDenied(validatePod({ name: 'p', annotations: { 'ipam.antrea.io/ippools': 'web-pool' } }), 'NI7006', 'Deployment acme-prod/web');
    expect(validatePod({ name: 'p', annotations: { 'netintent.dev/pool': 'acme-0' } }).allowed).toBe(true);
    expect(validatePod({ name: 'p', annotations: { 'ipam.antrea.io/ippools': 'antrea-own-pool' } }).allowed).toBe(true);
    expect(validatePod({ generateName: 'web-7d9f-', ...webOwner, annotations: { 'netintent.dev/pool': 'web-pool' } }).allowed).toBe(true);
  });
});

describe('bandwidth annotations', () => {
  it('allows quantities within the tenant caps', () => {
    expect(validatePod({ name: 'p', annotations: { 'kubernetes.io/ingress-bandwidth': '100M', 'kubernetes.io/egress-bandwidth': '1.5e7' } }).allowed).toBe(true);
    expect(validatePod({ name: 'p', namespace: 'ops', annotations: { 'kubernetes.io/ingress-bandwidth': '1Gi' } }).allowed).toBe(true);
  });
  it('denies malformed or unreasonable quantities (NI7009)', () => {
    for (const value of ['10 M', 'fast', '10MB', '-5M', '500', '2P']) {
      expectDenied(validatePod({ name: 'p', namespace: 'ops', annotations: { 'kubernetes.io/egress-bandwidth': value } }), 'NI7009', 'kubernetes.io/egress-bandwidth', value);
    }
  });
  it('denies rates above the tenant cap (NI7010)', () => {
    expectDenied(validatePod({ name: 'p', annotations: { 'kubernetes.io/ingress-bandwidth': '101M' } }), 'NI7010', 'ingress cap 100M', 'intents/acme.intent:3');
    expectDenied(validatePod({ name: 'p', annotations: { 'kubernetes.io/egress-bandwidth': '1Gi' } }), 'NI7010', 'egress cap 50M');
  });
});

describe('secondary networks', () => {
  it('allows the tenant its own and unowned networks', () => {
    expect(validatePod({ name: 'p', annotations: { 'k8s.v1.cni.cncf.io/networks': 'storage-net@eth1, other/free-net' } }).allowed).toBe(true);
    expect(validatePod({ name: 'p', namespace: 'beta-a', annotations: { 'k8s.v1.cni.cncf.io/networks': 'beta-net' } }).allowed).toBe(true);
  });
  it('denies another tenant\'s network in both syntaxes (NI7011)', () => {
    expectDenied(validatePod({ name: 'p', annotations: { 'k8s.v1.cni.cncf.io/networks': 'beta-a/beta-net@net1' } }), 'NI7011', 'beta-a/beta-net', 'tenant "beta"', 'intents/acme.intent:12', 'storage-net');
    expectDenied(validatePod({ name: 'p', annotations: { 'k8s.v1.cni.cncf.io/networks': '[{"name":"beta-net","namespace":"beta-a","interface":"net1"}]' } }), 'NI7011');
    expectDenied(validatePod({ name: 'p', namespace: 'beta-a', annotations: { 'k8s.v1.cni.cncf.io/networks': 'storage-net' } }), 'NI7011', 'tenant "acme"');
  });
  it('denies unreadable network selections (NI7012)', () => {
    expectDenied(validatePod({ name: 'p', annotations: { 'k8s.v1.cni.cncf.io/networks': '[{"nam":"x"}]' } }), 'NI7012', '"name"');
    expectDenied(validatePod({ name: 'p', annotations: { 'k8s.v1.cni.cncf.io/networks': 'a b' } }), 'NI7012');
  });
});

describe('NetworkPolicies in strict tenants (NI7013)', () => {
  const validateNp = (namespace: string, spec: Record<string, unknown>) => admit(reviewOf(networkPolicy(namespace, spec), { kind: NETWORK_POLICY_KIND })).response;
  it('denies namespaceSelector {} and selectors reaching other tenants', () => {
    expectDenied(validateNp('acme-prod', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }] }] }), 'NI7013', 'spec.ingress[0].from[0].namespaceSelector', 'every namespace', 'intents/acme.intent:3');
    expectDenied(validateNp('acme-prod', { podSelector: {}, egress: [{ to: [{ podSelector: {} }, { namespaceSelector: { matchLabels: { team: 'beta' } }, podSelector: {} }] }] }), 'NI7013', 'spec.egress[0].to[1].namespaceSelector', 'beta-a, beta-b');
    expectDenied(validateNp('acme-dev', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['infra'] }] } }] }] }), 'NI7013', 'infra');
  });
  it('allows selectors inside the tenant, pod-only peers, ipBlocks clear of other tenants\' pools and non-strict tenants', () => {
    expect(validateNp('acme-prod', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'acme-dev' } } }, { podSelector: { matchLabels: { a: 'b' } } }, { ipBlock: { cidr: '10.10.0.0/16' } }, { ipBlock: { cidr: '192.168.0.0/16' } }] }] }).allowed).toBe(true);
    // The except block leaves beta's pool out.
    expect(validateNp('acme-prod', { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.20.0.0/16'] } }] }] }).allowed).toBe(true);
    expect(validateNp('beta-a', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.10.0.0/16' } }] }] }).allowed).toBe(true);
    expect(validateNp('beta-a', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }] }] }).allowed).toBe(true);
    expect(validateNp('default', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }] }] }).allowed).toBe(true);
  });
});

describe('ipBlocks in strict tenants (NI7019)', () => {
  const validateNp = (namespace: string, spec: Record<string, unknown>) => admit(reviewOf(networkPolicy(namespace, spec), { kind: NETWORK_POLICY_KIND })).response;
  it('denies an ipBlock that reaches another tenant\'s pool, naming the field, the block and the pool', () => {
    expectDenied(
      validateNp('acme-prod', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }, { ipBlock: { cidr: '10.0.0.0/8' } }] }] }),
      'NI7019',
      'spec.ingress[0].from[1].ipBlock (10.0.0.0/8)',
      'pool "beta-0" of tenant "beta" (10.20.0.0-10.20.0.255)',
      'intents/acme.intent:3',
    );
    // An except that only covers part of the pool still leaves some of it reachable.
    expectDenied(validateNp('acme-prod', { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.20.0.0/16', except: ['10.20.0.0/25'] } }] }] }), 'NI7019', 'spec.egress[0].to[0].ipBlock', 'beta-0');
  });
});

describe('IntentSet objects (NI7014)', () => {
  const intentSet = { apiVersion: 'netintent.dev/v1alpha1', kind: 'IntentSet', metadata: { name: 'team', namespace: 'acme-prod', uid: 'x', managedFields: [] }, spec: { tenants: [] } };
  const compileFailing: CompileTexts = (files) => ({
    ir: undefined,
    diagnostics: [diag('NI2001', { file: files[0]!.path, start: { line: 7, col: 3, offset: 80 }, end: { line: 7, col: 9, offset: 86 } }, ['group', 'web'])],
  });
  it('rejects an IntentSet that does not compile, with its diagnostics', () => {
    const out = admit(reviewOf(intentSet, { kind: INTENT_SET_KIND }), 'validate', fixtureContext({ compileTexts: compileFailing })).response;
    expectDenied(out, 'NI7014', 'acme-prod/team', 'NI2001 line 7 Unknown group "web"', 'netintent check');
  });
  it('hands the compiler the object without server-set metadata', () => {
    let seen = '';
    const ok: CompileTexts = (files) => {
      seen = files[0]!.text;
      return { ir: fixtureIr(), diagnostics: [] };
    };
    expect(admit(reviewOf(intentSet, { kind: INTENT_SET_KIND }), 'validate', fixtureContext({ compileTexts: ok })).response.allowed).toBe(true);
    expect(seen).toContain('kind: IntentSet');
    expect(seen).not.toContain('managedFields');
  });
  it('allows with a warning when no compiler is configured', () => {
    const out = admit(reviewOf(intentSet, { kind: INTENT_SET_KIND })).response;
    expect(out.allowed).toBe(true);
    expect(out.warnings![0]).toMatch(/^NI7016/);
  });
});
