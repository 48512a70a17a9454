import fc from 'fast-check';
import jsonPatch from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { CNI_FLAVOURS, parseAdmissionReview, review, serialiseAdmissionResponse, type AdmissionContext } from '../../src/admission/index.js';
import { podObject } from './arbitraries.js';
import { fixtureContext, fixtureIr, pod, reviewOf, type PodOptions } from './fixtures.js';

const ir = fixtureIr();

function mutate(object: Record<string, unknown>, context: AdmissionContext = fixtureContext(), uid = 'u') {
  const parsed = parseAdmissionReview(reviewOf(object, { uid }));
  if ('error' in parsed) throw new Error(parsed.error);
  return review(ir, context, parsed.request, { operation: 'mutate' }).response;
}

function decode(patch: string | undefined): jsonPatch.Operation[] {
  return patch === undefined ? [] : (JSON.parse(Buffer.from(patch, 'base64').toString('utf8')) as jsonPatch.Operation[]);
}

/** Mutates, applies the patch, and checks that mutating the result changes nothing. */
function mutated(o: PodOptions, context?: AdmissionContext): { annotations: Record<string, string>; ops: jsonPatch.Operation[] } {
  const object = pod(o);
  const response = mutate(object, context);
  expect(response.allowed).toBe(true);
  const ops = decode(response.patch);
  if (ops.length) expect(response.patchType).toBe('JSONPatch');
  const after = jsonPatch.applyPatch(structuredClone(object), ops, true, false).newDocument as { metadata: { annotations?: Record<string, string> } };
  const again = mutate(after as Record<string, unknown>, context);
  expect(again.patch, 'mutating the output again must change nothing').toBeUndefined();
  expect(again.patchType).toBeUndefined();
  return { annotations: after.metadata.annotations ?? {}, ops };
}

const sts = (name: string) => ({ name, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'mysql', controller: true, uid: 'x' }] });
const web = { generateName: 'web-7d9f-', labels: { app: 'web', 'pod-template-hash': '7d9f' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9f', controller: true, uid: 'y' }] };

describe('pod mutation', () => {
  it('gives a fixed-IP pod its address and the tenant pools, creating the annotations object', () => {
    const { annotations, ops } = mutated({ name: 'legacy-db' });
    expect(annotations).toEqual({ 'netintent.dev/ip': '10.10.0.5', 'netintent.dev/pool': 'acme-0' });
    expect(ops).toEqual([{ op: 'add', path: '/metadata/annotations', value: annotations }]);
  });

  it('adds to existing annotations with "/" escaped as ~1', () => {
    const { annotations, ops } = mutated({ name: 'dual', annotations: { keep: 'me' } });
    expect(annotations).toEqual({ keep: 'me', 'netintent.dev/ip': '10.10.0.6,fd00:10::6', 'netintent.dev/pool': 'acme-0' });
    expect(ops.map((o) => o.path).sort()).toEqual(['/metadata/annotations/netintent.dev~1ip', '/metadata/annotations/netintent.dev~1pool']);
    expect(ops.every((o) => o.op === 'add')).toBe(true);
  });

  it('gives StatefulSet pods their pool by name and leaves the ordinal address to the IPAM plugin', () => {
    // The plugin counts out the node network's gateway and network addresses, which the
    // webhook cannot see, and keeps the lease sticky only for a pool request.
    expect(mutated(sts('mysql-0')).annotations).toEqual({ 'netintent.dev/pool': 'mysql' });
    expect(mutated(sts('mysql-9')).annotations).toEqual({ 'netintent.dev/pool': 'mysql' });
  });

  it('gives Deployment pods their pool, rate limits and egress gateway', () => {
    const { annotations } = mutated(web);
    expect(annotations).toEqual({
      'netintent.dev/pool': 'web-pool',
      'kubernetes.io/ingress-bandwidth': '10M',
      'kubernetes.io/egress-bandwidth': '20M',
      'netintent.dev/egress-gateway': 'audit',
    });
  });

  it('keeps a stricter user rate, lowers a looser one, and leaves malformed ones to validation', () => {
    expect(mutated({ ...web, annotations: { 'kubernetes.io/ingress-bandwidth': '1M', 'kubernetes.io/egress-bandwidth': '1G' } }).annotations).toMatchObject({
      'kubernetes.io/ingress-bandwidth': '1M',
      'kubernetes.io/egress-bandwidth': '20M',
    });
    const { ops } = mutated({ ...web, annotations: { 'kubernetes.io/egress-bandwidth': '1G' } });
    expect(ops).toContainEqual({ op: 'replace', path: '/metadata/annotations/kubernetes.io~1egress-bandwidth', value: '20M' });
    expect(mutated({ ...web, annotations: { 'kubernetes.io/ingress-bandwidth': 'fast' } }).annotations['kubernetes.io/ingress-bandwidth']).toBe('fast');
  });

  it('matches tenant-scoped groups and takes the strictest of several limits', () => {
    expect(mutated({ name: 'a', namespace: 'acme-dev', labels: { app: 'api' } }).annotations).toEqual({
      'netintent.dev/pool': 'acme-0',
      'kubernetes.io/ingress-bandwidth': '5M',
    });
  });

  it('removes an egress-gateway claim the intents do not make', () => {
    const { annotations, ops } = mutated({ name: 'x', namespace: 'default', annotations: { 'netintent.dev/egress-gateway': 'audit' } });
    expect(annotations).toEqual({});
    expect(ops).toEqual([{ op: 'remove', path: '/metadata/annotations/netintent.dev~1egress-gateway' }]);
  });

  it('carries a CNI-flavoured request over to netintent.dev/ip and writes the configured CNI annotations', () => {
    expect(mutated({ name: 'p', annotations: { 'cni.projectcalico.org/ipAddrs': '["10.10.0.99"]' } }).annotations['netintent.dev/ip']).toBe('10.10.0.99');
    const calico = fixtureContext({ cni: 'calico' });
    expect(mutated({ name: 'legacy-db' }, calico).annotations['cni.projectcalico.org/ipAddrs']).toBe('["10.10.0.5"]');
    // The pod's own CNI annotation is kept; only what the intents decide overrides it.
    expect(mutated({ name: 'p', annotations: { 'cni.projectcalico.org/ipAddrs': '[ "10.10.0.99" ]' } }, calico).annotations['cni.projectcalico.org/ipAddrs']).toBe('[ "10.10.0.99" ]');
    expect(mutated({ name: 'legacy-db', annotations: { 'cni.projectcalico.org/ipAddrs': '["10.10.0.7"]' } }, calico).annotations['cni.projectcalico.org/ipAddrs']).toBe('["10.10.0.5"]');
    expect(mutated({ name: 'p', annotations: { 'ipam.antrea.io/ippools': 'antrea-own' } }, fixtureContext({ cni: 'antrea' })).annotations).toMatchObject({ 'ipam.antrea.io/ippools': 'antrea-own', 'netintent.dev/pool': 'acme-0' });
    expect(mutated({ name: 'dual' }, fixtureContext({ cni: 'kube-ovn' })).annotations['ovn.kubernetes.io/ip_address']).toBe('10.10.0.6,fd00:10::6');
    expect(mutated({ name: 'legacy-db' }, fixtureContext({ cni: 'antrea' })).annotations).toMatchObject({ 'ipam.antrea.io/pod-ips': '10.10.0.5', 'ipam.antrea.io/ippools': 'acme-0' });
    expect(mutated(sts('mysql-0'), fixtureContext({ cni: 'antrea' })).annotations).toEqual({ 'netintent.dev/pool': 'mysql', 'ipam.antrea.io/ippools': 'mysql' });
  });

  it('leaves pods outside every intent alone and never patches from validate', () => {
    expect(mutate(pod({ name: 'x', namespace: 'default' }))).toEqual({ uid: 'u', allowed: true });
    const parsed = parseAdmissionReview(reviewOf(pod({ name: 'legacy-db' })));
    if ('error' in parsed) throw new Error(parsed.error);
    expect(review(ir, fixtureContext(), parsed.request, { operation: 'validate' }).response.patch).toBeUndefined();
  });

  it('is deterministic: same input, same bytes', () => {
    const body = reviewOf(pod({ ...web, name: 'web-7d9f-abcde', annotations: { z: '1', a: '2' } }), { uid: 'same' });
    const once = () => {
      const parsed = parseAdmissionReview(structuredClone(body));
      if ('error' in parsed) throw new Error(parsed.error);
      return serialiseAdmissionResponse(review(ir, fixtureContext(), parsed.request, { operation: 'mutate' }));
    };
    expect(once()).toBe(once());
    expect(JSON.parse(once()).response.auditAnnotations).toEqual({ patched: 'kubernetes.io/egress-bandwidth,kubernetes.io/ingress-bandwidth,netintent.dev/egress-gateway,netintent.dev/pool' });
  });
});

describe('fast-json-patch compare on appended arrays', () => {
  it('appends to arrays instead of replacing them', () => {
    expect(jsonPatch.compare({ a: [1, 2] }, { a: [1, 2, 3] })).toEqual([{ op: 'add', path: '/a/2', value: 3 }]);
  });
});

describe('mutation properties', () => {
  it('is idempotent for generated pods with every CNI flavour (4 × 1,000 cases)', () => {
    for (const cni of [undefined, ...CNI_FLAVOURS]) {
      const context = fixtureContext(cni ? { cni } : {});
      fc.assert(
        fc.property(podObject, (object) => {
          const response = mutate(object, context);
          const after = jsonPatch.applyPatch(structuredClone(object), decode(response.patch), true, false).newDocument as Record<string, unknown>;
          expect(mutate(after, context).patch).toBeUndefined();
        }),
        { numRuns: 1000 },
      );
    }
  });
});
