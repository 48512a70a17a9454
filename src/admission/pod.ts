/**
 * What the admission rules need to know about a pod in a request: its namespace and
 * tenant, labels, annotations, the workload that owns it (for workload pools) and its
 * membership in the IR's groups.
 */
import { ANY_GROUP_ID, type IrNamespaceScope, type IrTenant } from '../ir/types.js';
import { matchesSelector, tenantOfNamespace } from '../ir/selector.js';
import { refersToTenant, type AdmissionIndex, type WorkloadKind } from './ir-index.js';

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObject(v)) for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

export interface PodWorkload {
  kind: WorkloadKind;
  name: string;
}

export interface PodFacts {
  namespace: string;
  /** Empty while the API server has still to generate it (generateName). */
  name: string;
  /** `namespace/name` (or `namespace/generateName*`) for messages. */
  display: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  namespaceLabels: Readonly<Record<string, string>>;
  tenant?: IrTenant;
  workload?: PodWorkload;
  spec: JsonObject;
}

/** Labels of a namespace the inventory does not list: the one the API server always sets. */
export function namespaceLabelsOf(namespaces: ReadonlyMap<string, Readonly<Record<string, string>>>, name: string): Readonly<Record<string, string>> {
  return namespaces.get(name) ?? { 'kubernetes.io/metadata.name': name };
}

function workloadOf(meta: JsonObject, labels: Record<string, string>): PodWorkload | undefined {
  const owners = Array.isArray(meta.ownerReferences) ? meta.ownerReferences.filter(isObject) : [];
  const controller = owners.find((o) => o.controller === true) ?? owners[0];
  const ownerKind = typeof controller?.kind === 'string' ? controller.kind : undefined;
  const ownerName = typeof controller?.name === 'string' ? controller.name : undefined;
  if (ownerKind === 'StatefulSet' && ownerName) return { kind: 'StatefulSet', name: ownerName };
  // A Deployment's pods belong to ReplicaSet `DEPLOYMENT-HASH` (HASH = pod-template-hash);
  // without an owner reference the generateName `DEPLOYMENT-HASH-` says the same.
  const replicaSet =
    ownerKind === 'ReplicaSet' ? ownerName : typeof meta.generateName === 'string' ? meta.generateName.replace(/-$/, '') : undefined;
  const hash = labels['pod-template-hash'];
  if (replicaSet && hash && replicaSet.endsWith(`-${hash}`)) {
    return { kind: 'Deployment', name: replicaSet.slice(0, -hash.length - 1) };
  }
  return undefined;
}

export function readPod(
  index: AdmissionIndex,
  object: JsonObject,
  requestNamespace: string | undefined,
  namespaces: ReadonlyMap<string, Readonly<Record<string, string>>>,
): PodFacts {
  const meta = isObject(object.metadata) ? object.metadata : {};
  const namespace = requestNamespace || (typeof meta.namespace === 'string' ? meta.namespace : 'default');
  const name = typeof meta.name === 'string' ? meta.name : '';
  const labels = stringMap(meta.labels);
  const namespaceLabels = namespaceLabelsOf(namespaces, namespace);
  const tenant = tenantOfNamespace(index.ir, { name: namespace, labels: { ...namespaceLabels } });
  const workload = workloadOf(meta, labels);
  return {
    namespace,
    name,
    display: `${namespace}/${name || `${typeof meta.generateName === 'string' ? meta.generateName : ''}*`}`,
    labels,
    annotations: stringMap(meta.annotations),
    namespaceLabels,
    ...(tenant ? { tenant } : {}),
    ...(workload ? { workload } : {}),
    spec: isObject(object.spec) ? object.spec : {},
  };
}

function scopeMatches(scope: IrNamespaceScope, pod: PodFacts): boolean {
  switch (scope.kind) {
    case 'all':
      return true;
    case 'names':
      return scope.names.includes(pod.namespace);
    case 'selector':
      return matchesSelector(scope.selector, pod.namespaceLabels);
    case 'tenant':
      return pod.tenant !== undefined && refersToTenant(scope.tenant, pod.tenant);
    case 'notTenant':
      return !(pod.tenant !== undefined && refersToTenant(scope.tenant, pod.tenant));
  }
}

/**
 * Ids of every group holding the pod, directly or through nested groups, plus `group:any`.
 * Only `pods` members of the local cluster's primary network can hold a pod being
 * admitted; addresses, names and services cannot.
 */
export function groupsOfPod(index: AdmissionIndex, pod: PodFacts): Set<string> {
  const groups = new Set<string>([ANY_GROUP_ID]);
  const candidates = [index.unkeyedMembers, ...Object.entries(pod.labels).map(([k, v]) => index.membersByLabel.get(`${k}=${v}`) ?? [])];
  const pending: string[] = [];
  for (const list of candidates) {
    for (const { groupId, member } of list) {
      if (!groups.has(groupId) && scopeMatches(member.scope, pod) && matchesSelector(member.selector, pod.labels)) {
        groups.add(groupId);
        pending.push(groupId);
      }
    }
  }
  for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
    for (const parent of index.parentGroups.get(id) ?? []) {
      if (!groups.has(parent)) {
        groups.add(parent);
        pending.push(parent);
      }
    }
  }
  return groups;
}

export interface IntendedAddresses {
  ips: string[];
  /** IR element that gives them (the fixed IP). */
  sourceId: string;
}

/**
 * The addresses the intents fix for this very pod (`fixed-ip`). A StatefulSet pod's
 * ordinal address is left to the IPAM plugin: it counts out the node network's gateway,
 * network and broadcast addresses, which the webhook cannot see, and keeps the lease
 * sticky only when asked for the pool (`netintent.dev/pool`), not for an address.
 */
export function intendedAddresses(index: AdmissionIndex, pod: PodFacts): IntendedAddresses | undefined {
  const fixed = pod.name ? index.fixedByPod.get(`${pod.namespace}/${pod.name}`) : undefined;
  return fixed ? { ips: fixed.ips, sourceId: fixed.id } : undefined;
}
