/**
 * The cluster inventory: what `kubectl get namespaces,pods,nodes,services -A -o yaml` (or
 * `-o json`) prints, as a `v1 List` or as a multi-document YAML of the same objects.
 * Pure: takes text, returns the model and diagnostics naming the object and field at fault.
 */
import { parseAllDocuments, LineCounter } from 'yaml';
import { canonicalIp } from '../ir/address.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Span } from '../diagnostics/span.js';

export interface ContainerPort {
  name?: string;
  port: number;
  protocol: 'tcp' | 'udp' | 'sctp';
}

/** One attachment from the Multus `k8s.v1.cni.cncf.io/network-status` annotation. */
export interface PodNetwork {
  /** Network name as Multus reports it, e.g. `ns/macvlan-conf` or `macvlan-conf`. */
  name: string;
  interface?: string;
  ips: string[];
  default: boolean;
}

export interface InventoryPod {
  namespace: string;
  name: string;
  uid: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  nodeName?: string;
  /** Primary-network IPs from status.podIPs (canonical text), sorted. */
  ips: string[];
  ports: ContainerPort[];
  /** Secondary networks (non-default entries of network-status). */
  networks: PodNetwork[];
  hostNetwork: boolean;
  owner?: { kind: string; name: string; uid?: string };
}

export interface InventoryNamespace {
  name: string;
  labels: Record<string, string>;
}

export interface InventoryNode {
  name: string;
  labels: Record<string, string>;
  /** InternalIP addresses first, then others; canonical text. */
  addresses: string[];
  podCidrs: string[];
}

export interface InventoryService {
  namespace: string;
  name: string;
  clusterIps: string[];
  /** Absent: a service without selector (manual endpoints). */
  selector?: Record<string, string>;
  ports: { name?: string; port: number; targetPort?: number | string; protocol: 'tcp' | 'udp' | 'sctp' }[];
}

export interface Inventory {
  namespaces: InventoryNamespace[];
  pods: InventoryPod[];
  nodes: InventoryNode[];
  services: InventoryService[];
}

export const NETWORK_STATUS_ANNOTATION = 'k8s.v1.cni.cncf.io/network-status';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObj(v)) return out;
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

function protocolOf(v: unknown): 'tcp' | 'udp' | 'sctp' | undefined {
  const p = typeof v === 'string' ? v.toLowerCase() : v === undefined ? 'tcp' : '';
  return p === 'tcp' || p === 'udp' || p === 'sctp' ? p : undefined;
}

/** Code-point order, never the locale's: outputs must not depend on the machine. */
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byName = <T extends { name: string; namespace?: string }>(a: T, b: T): number => byText(a.namespace ?? '', b.namespace ?? '') || byText(a.name, b.name);

export interface LoadInventoryOptions {
  /**
   * Keep pods that have no IP yet (pending pods). The IPAM plugin and its GC need them:
   * a pod is given its IP by the CNI ADD that runs before status.podIPs is set.
   */
  keepPodsWithoutIps?: boolean;
}

/**
 * Loads an inventory. JSON input (kubectl -o json) takes a fast path; YAML keeps
 * positions so that diagnostics point at the object.
 */
export function loadInventory(
  file: string,
  text: string,
  options: LoadInventoryOptions = {},
): { inventory: Inventory; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const objects: { obj: unknown; span?: Span }[] = [];
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      objects.push({ obj: JSON.parse(text) });
    } catch (e) {
      diagnostics.push(diag('NI6001', undefined, [file, (e as Error).message]));
    }
  } else {
    const lineCounter = new LineCounter();
    const docs = parseAllDocuments(text, { lineCounter });
    const docList = Array.isArray(docs) ? docs : [docs];
    for (const doc of docList) {
      for (const err of doc.errors) {
        const pos = lineCounter.linePos(err.pos[0]);
        diagnostics.push(
          diag('NI6001', { file, start: { line: pos.line, col: pos.col, offset: err.pos[0] }, end: { line: pos.line, col: pos.col, offset: err.pos[1] } }, [file, err.message]),
        );
      }
      if (doc.errors.length) continue;
      const range = doc.contents?.range;
      let span: Span | undefined;
      if (range) {
        const s = lineCounter.linePos(range[0]);
        const e = lineCounter.linePos(range[1]);
        span = { file, start: { line: s.line, col: s.col, offset: range[0] }, end: { line: e.line, col: e.col, offset: range[1] } };
      }
      objects.push({ obj: doc.toJS(), span });
    }
  }

  const built = inventoryFromObjects(objects, options);
  return { inventory: built.inventory, diagnostics: [...diagnostics, ...built.diagnostics] };
}

/**
 * The inventory of Kubernetes objects already parsed (a `v1 List`, arrays, single objects;
 * from a file or from the API server's watch), each with the span it came from if any.
 */
export function inventoryFromObjects(
  objects: readonly { obj: unknown; span?: Span }[],
  options: LoadInventoryOptions = {},
): { inventory: Inventory; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const inventory: Inventory = { namespaces: [], pods: [], nodes: [], services: [] };
  const visit = (obj: unknown, span: Span | undefined): void => {
    if (obj === null || obj === undefined) return;
    if (Array.isArray(obj)) {
      for (const item of obj) visit(item, span);
      return;
    }
    if (!isObj(obj)) {
      diagnostics.push(diag('NI6001', span, ['(document)', 'expected a Kubernetes object or a v1 List']));
      return;
    }
    const kind = obj.kind;
    if (kind === 'List' || kind?.toString().endsWith('List')) {
      visit(obj.items, span);
      return;
    }
    const meta = isObj(obj.metadata) ? obj.metadata : undefined;
    const name = typeof meta?.name === 'string' ? meta.name : undefined;
    const namespace = typeof meta?.namespace === 'string' ? meta.namespace : 'default';
    const label = `${String(kind)} ${kind === 'Namespace' || kind === 'Node' ? name : `${namespace}/${name}`}`;
    if (!name) {
      diagnostics.push(diag('NI6001', span, [String(kind ?? '(no kind)'), 'metadata.name is missing']));
      return;
    }
    switch (kind) {
      case 'Namespace':
        inventory.namespaces.push({ name, labels: stringMap(meta?.labels) });
        return;
      case 'Node':
        inventory.nodes.push(readNode(obj, name, meta!));
        return;
      case 'Service':
        inventory.services.push(readService(obj, name, namespace));
        return;
      case 'Pod': {
        const pod = readPod(obj, name, namespace, meta!, label, span, diagnostics, options.keepPodsWithoutIps === true);
        if (pod) inventory.pods.push(pod);
        return;
      }
      default:
        return; // other kinds (Deployments, Events…) are not part of the inventory
    }
  };
  for (const { obj, span } of objects) visit(obj, span);

  inventory.namespaces.sort(byName);
  inventory.nodes.sort(byName);
  inventory.services.sort(byName);
  inventory.pods.sort(byName);
  // Namespaces referenced by pods but not listed still exist (without labels), as the API server guarantees.
  const known = new Set(inventory.namespaces.map((n) => n.name));
  for (const pod of inventory.pods) {
    if (!known.has(pod.namespace)) {
      known.add(pod.namespace);
      inventory.namespaces.push({ name: pod.namespace, labels: { 'kubernetes.io/metadata.name': pod.namespace } });
    }
  }
  inventory.namespaces.sort(byName);
  // The API server always sets this label; inventories written by hand may not have it.
  for (const ns of inventory.namespaces) ns.labels['kubernetes.io/metadata.name'] ??= ns.name;
  return { inventory, diagnostics };
}

function readNode(obj: Obj, name: string, meta: Obj): InventoryNode {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const status = isObj(obj.status) ? obj.status : {};
  const addresses: { type: string; ip: string }[] = [];
  for (const a of Array.isArray(status.addresses) ? status.addresses : []) {
    if (!isObj(a) || typeof a.address !== 'string') continue;
    const ip = canonicalIp(a.address);
    if (ip) addresses.push({ type: String(a.type ?? ''), ip });
  }
  addresses.sort((x, y) => Number(y.type === 'InternalIP') - Number(x.type === 'InternalIP'));
  const podCidrs = Array.isArray(spec.podCIDRs)
    ? spec.podCIDRs.filter((c): c is string => typeof c === 'string')
    : typeof spec.podCIDR === 'string'
      ? [spec.podCIDR]
      : [];
  return { name, labels: stringMap(meta.labels), addresses: addresses.map((a) => a.ip), podCidrs };
}

function readService(obj: Obj, name: string, namespace: string): InventoryService {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const ips = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : typeof spec.clusterIP === 'string' ? [spec.clusterIP] : [];
  const clusterIps = ips
    .map((ip) => (typeof ip === 'string' ? canonicalIp(ip) : undefined))
    .filter((ip): ip is string => ip !== undefined);
  const ports: InventoryService['ports'] = [];
  for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
    if (!isObj(p) || typeof p.port !== 'number') continue;
    const protocol = protocolOf(p.protocol);
    if (!protocol) continue;
    ports.push({
      ...(typeof p.name === 'string' ? { name: p.name } : {}),
      port: p.port,
      ...(typeof p.targetPort === 'number' || typeof p.targetPort === 'string' ? { targetPort: p.targetPort } : {}),
      protocol,
    });
  }
  return { namespace, name, clusterIps, ...(isObj(spec.selector) ? { selector: stringMap(spec.selector) } : {}), ports };
}

function readPod(
  obj: Obj,
  name: string,
  namespace: string,
  meta: Obj,
  label: string,
  span: Span | undefined,
  diagnostics: Diagnostic[],
  keepWithoutIps: boolean,
): InventoryPod | undefined {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const status = isObj(obj.status) ? obj.status : {};
  const annotations = stringMap(meta.annotations);
  const ips: string[] = [];
  const podIps = Array.isArray(status.podIPs) ? status.podIPs : typeof status.podIP === 'string' ? [{ ip: status.podIP }] : [];
  for (const entry of podIps) {
    const raw = isObj(entry) ? entry.ip : undefined;
    const ip = typeof raw === 'string' ? canonicalIp(raw) : undefined;
    if (ip) ips.push(ip);
    else diagnostics.push(diag('NI6001', span, [label, `status.podIPs has an invalid entry ${JSON.stringify(entry)}`]));
  }
  const phase = status.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return undefined;
  if (ips.length === 0 && !keepWithoutIps) {
    diagnostics.push(diag('NI6002', span, [`${namespace}/${name}`]));
    return undefined;
  }
  const ports: ContainerPort[] = [];
  for (const c of Array.isArray(spec.containers) ? spec.containers : []) {
    if (!isObj(c)) continue;
    for (const p of Array.isArray(c.ports) ? c.ports : []) {
      if (!isObj(p) || typeof p.containerPort !== 'number') continue;
      const protocol = protocolOf(p.protocol);
      if (!protocol) {
        diagnostics.push(diag('NI6001', span, [label, `container port protocol ${JSON.stringify(p.protocol)} is not TCP, UDP or SCTP`]));
        continue;
      }
      ports.push({ ...(typeof p.name === 'string' ? { name: p.name } : {}), port: p.containerPort, protocol });
    }
  }
  const networks: PodNetwork[] = [];
  const status_ = annotations[NETWORK_STATUS_ANNOTATION];
  if (status_ !== undefined) {
    try {
      const parsed: unknown = JSON.parse(status_);
      if (!Array.isArray(parsed)) throw new Error('not a JSON list');
      for (const n of parsed) {
        if (!isObj(n) || typeof n.name !== 'string' || n.default === true) continue;
        const netIps = (Array.isArray(n.ips) ? n.ips : [])
          .map((ip) => (typeof ip === 'string' ? canonicalIp(ip) : undefined))
          .filter((ip): ip is string => ip !== undefined)
          .sort();
        networks.push({ name: n.name, ...(typeof n.interface === 'string' ? { interface: n.interface } : {}), ips: netIps, default: false });
      }
    } catch (e) {
      diagnostics.push(diag('NI6004', span, [`${namespace}/${name}`, (e as Error).message]));
    }
  }
  const owners = Array.isArray(meta.ownerReferences) ? meta.ownerReferences.filter(isObj) : [];
  const controller = owners.find((o) => o.controller === true) ?? owners[0];
  return {
    namespace,
    name,
    uid: typeof meta.uid === 'string' ? meta.uid : '',
    labels: stringMap(meta.labels),
    annotations,
    ...(typeof spec.nodeName === 'string' ? { nodeName: spec.nodeName } : {}),
    ips: ips.sort(),
    ports,
    networks: networks.sort((a, b) => byText(a.name, b.name)),
    hostNetwork: spec.hostNetwork === true,
    ...(controller && typeof controller.kind === 'string' && typeof controller.name === 'string'
      ? { owner: { kind: controller.kind, name: controller.name, ...(typeof controller.uid === 'string' ? { uid: controller.uid } : {}) } }
      : {}),
  };
}

export { diffPods, sameApartFromPods } from './diff.js';
