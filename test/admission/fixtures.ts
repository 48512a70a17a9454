/** Hand-built IR and AdmissionReview builders shared by the admission and webhook tests. */
import { IR_VERSION, type Ir, type IrSourceRef } from '../../src/ir/types.js';
import type { AdmissionContext } from '../../src/admission/index.js';

const at = (line: number): IrSourceRef[] => [{ file: 'intents/acme.intent', line, col: 1, endLine: line, endCol: 40 }];

export function fixtureIr(): Ir {
  return {
    version: IR_VERSION,
    clusters: [],
    tenants: [
      {
        id: 'tenant:acme',
        name: 'acme',
        namespaces: { kind: 'names', names: ['acme-dev', 'acme-prod'] },
        isolation: 'strict',
        pools: ['pool:tenant/acme/0'],
        ingressCap: 100e6,
        egressCap: 50e6,
        networks: ['storage-net'],
        allowHostAccess: false,
      },
      {
        id: 'tenant:beta',
        name: 'beta',
        namespaces: { kind: 'selector', selector: [{ key: 'team', op: 'In', values: ['beta'] }] },
        isolation: 'default',
        pools: ['pool:tenant/beta/0'],
        networks: ['beta-a/beta-net'],
        allowHostAccess: false,
      },
      {
        id: 'tenant:infra',
        name: 'infra',
        namespaces: { kind: 'names', names: ['infra'] },
        isolation: 'strict',
        pools: [],
        networks: [],
        allowHostAccess: true,
      },
      {
        id: 'tenant:ops',
        name: 'ops',
        namespaces: { kind: 'names', names: ['ops'] },
        isolation: 'none',
        pools: [],
        networks: [],
        allowHostAccess: false,
      },
    ],
    groups: [
      { id: 'group:api', name: 'api', members: [{ kind: 'pods', scope: { kind: 'tenant', tenant: 'acme' }, selector: [{ key: 'app', op: 'In', values: ['api'] }] }] },
      { id: 'group:web', name: 'web', members: [{ kind: 'pods', scope: { kind: 'names', names: ['acme-prod'] }, selector: [{ key: 'app', op: 'In', values: ['web'] }] }] },
      { id: 'group:web-or-api', name: 'web-or-api', members: [{ kind: 'group', group: 'group:web' }, { kind: 'group', group: 'group:api' }] },
    ],
    rules: [],
    networkPolicies: [],
    pools: [
      { id: 'pool:mysql', name: 'mysql', family: 4, ranges: [{ first: '10.10.0.40', last: '10.10.0.47' }], reserved: ['10.10.0.41'], workload: { kind: 'StatefulSet', namespace: 'acme-prod', name: 'mysql' }, size: 7 },
      { id: 'pool:tenant/acme/0', name: 'acme-0', family: 4, ranges: [{ first: '10.10.0.0', last: '10.10.0.255' }, { first: '10.10.1.10', last: '10.10.1.50' }], reserved: [], tenant: 'acme', size: 297 },
      { id: 'pool:tenant/beta/0', name: 'beta-0', family: 4, ranges: [{ first: '10.20.0.0', last: '10.20.0.255' }], reserved: [], tenant: 'beta', size: 256 },
      { id: 'pool:web-pool', name: 'web-pool', family: 4, ranges: [{ first: '10.10.0.10', last: '10.10.0.20' }, { first: '10.10.0.30', last: '10.10.0.30' }], reserved: ['10.10.0.15'], workload: { kind: 'Deployment', namespace: 'acme-prod', name: 'web' }, size: 11 },
    ],
    fixedIps: [
      { id: 'fixed:acme-prod/dual', namespace: 'acme-prod', pod: 'dual', ips: ['10.10.0.6', 'fd00:10::6'], tenant: 'acme' },
      { id: 'fixed:acme-prod/legacy-db', namespace: 'acme-prod', pod: 'legacy-db', ips: ['10.10.0.5'], tenant: 'acme' },
    ],
    egressGateways: [
      { id: 'egress:audit', name: 'audit', pods: ['group:web'], destinations: ['0.0.0.0/0'], except: ['10.0.0.0/8'], nodes: ['gw-1', 'gw-2'], egressIps: ['192.168.100.10'] },
    ],
    rateLimits: [
      { id: 'rate:api-limit', name: 'api-limit', pods: ['group:api'], ingressBps: 5e6 },
      { id: 'rate:web-limit', name: 'web-limit', pods: ['group:web'], ingressBps: 10e6, egressBps: 20e6 },
    ],
    sources: {
      'tenant:acme': at(3),
      'tenant:beta': at(12),
      'tenant:infra': at(20),
      'pool:web-pool': at(30),
      'pool:mysql': at(31),
      'fixed:acme-prod/legacy-db': at(33),
      'fixed:acme-prod/dual': at(34),
    },
  };
}

export function fixtureContext(extra: Partial<AdmissionContext> = {}): AdmissionContext {
  return {
    namespaces: new Map<string, Record<string, string>>([
      ['acme-dev', { 'kubernetes.io/metadata.name': 'acme-dev' }],
      ['acme-prod', { 'kubernetes.io/metadata.name': 'acme-prod' }],
      ['beta-a', { 'kubernetes.io/metadata.name': 'beta-a', team: 'beta' }],
      ['beta-b', { 'kubernetes.io/metadata.name': 'beta-b', team: 'beta' }],
      ['default', { 'kubernetes.io/metadata.name': 'default' }],
      ['ops', { 'kubernetes.io/metadata.name': 'ops' }],
    ]),
    ...extra,
  };
}

export interface PodOptions {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  spec?: Record<string, unknown>;
  ownerReferences?: Record<string, unknown>[];
}

export function pod(o: PodOptions = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(o.name !== undefined ? { name: o.name } : {}),
      ...(o.generateName !== undefined ? { generateName: o.generateName } : {}),
      namespace: o.namespace ?? 'acme-prod',
      ...(o.labels ? { labels: o.labels } : {}),
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.ownerReferences ? { ownerReferences: o.ownerReferences } : {}),
    },
    spec: o.spec ?? { containers: [{ name: 'app', image: 'nginx:1.27' }] },
  };
}

let uidCounter = 0;

export function reviewOf(
  object: Record<string, unknown> | null,
  o: {
    kind?: { group: string; version: string; kind: string };
    operation?: string;
    namespace?: string;
    dryRun?: boolean;
    uid?: string;
    subResource?: string;
    oldObject?: Record<string, unknown>;
  } = {},
): Record<string, unknown> {
  const meta = (object?.metadata ?? {}) as { namespace?: string; name?: string };
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: o.uid ?? `uid-${++uidCounter}`,
      kind: o.kind ?? { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      ...(meta.name ? { name: meta.name } : {}),
      namespace: o.namespace ?? meta.namespace ?? 'default',
      ...(o.subResource ? { subResource: o.subResource } : {}),
      operation: o.operation ?? 'CREATE',
      userInfo: { username: 'tester' },
      object,
      oldObject: o.oldObject ?? null,
      dryRun: o.dryRun ?? false,
      options: null,
    },
  };
}

export const NETWORK_POLICY_KIND = { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' };
export const INTENT_SET_KIND = { group: 'netintent.dev', version: 'v1alpha1', kind: 'IntentSet' };

export function networkPolicy(namespace: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'np', namespace }, spec };
}
