/**
 * Endpoints: the things connectivity is computed between. Two kinds of lists:
 *
 * - `podClasses`: the inventory's pods collapsed into equivalence classes. Pods of one
 *   namespace with the same labels and container ports, whose addresses fall into the same
 *   cell of every CIDR named by the intents, are decided identically by every rule and
 *   NetworkPolicy, so one representative per class is evaluated (100,000 pods collapse to
 *   a few thousand classes). Plus external endpoints for the intents' CIDR groups.
 * - `groupEndpoints`: no inventory; one synthetic representative per named group (a pod
 *   in a namespace that satisfies its first member's scope and selector, or an address
 *   of its first CIDR), so the evaluator itself resolves overlaps such as tenant isolation.
 */
import { canonicalJson } from '../ir/canonical.js';
import { ANY_GROUP_ID, type Ir, type IrGroup, type IrMember, type IrNamespaceScope, type IrSelector } from '../ir/types.js';
import type { Inventory, InventoryNamespace, InventoryPod } from '../inventory/index.js';
import { bigIntToIp, familyOf, ipToBigInt, type Family } from '../ir/address.js';
import { cidrToRange, rangeToCidrs, type AddressRange } from '../resolve/index.js';
import { subtractRanges } from '../resolve/ranges.js';

export interface Endpoint {
  /** Stable identity, used for sorting and as report anchors. */
  key: string;
  label: string;
  kind: 'pods' | 'group' | 'external';
  namespace?: string;
  /** The address the evaluator is asked about. */
  ip: string;
  /** The representative pod; absent for addresses outside the cluster. */
  pod?: InventoryPod;
  /** How many inventory pods the endpoint stands for (0 for synthetic ones). */
  pods: number;
  /** Pod classes: every pod of the class. */
  members?: InventoryPod[];
}

export interface EndpointSet {
  endpoints: Endpoint[];
  /** What the evaluator needs besides the representative pods. */
  namespaces: InventoryNamespace[];
  services: Inventory['services'];
  notes: string[];
  /** Group level: the synthetic number of each named port (`tcp/60000` → `tcp/http`). */
  portNames?: ReadonlyMap<string, string>;
}

/** An address outside every cluster, standing for "anywhere" (TEST-NET-3). */
const WORLD_IP = '203.0.113.1';

function cidrRangesOf(irs: readonly Ir[]): AddressRange[] {
  const out: AddressRange[] = [];
  const add = (cidr: string, except: readonly string[]): void => {
    out.push(cidrToRange(cidr), ...except.map(cidrToRange));
  };
  for (const ir of irs) {
    for (const g of ir.groups) for (const m of g.members) if (m.kind === 'cidr') add(m.cidr, m.except);
    for (const np of ir.networkPolicies) {
      for (const rule of [...np.ingress, ...np.egress]) for (const p of rule.peers ?? []) if (p.kind === 'ipBlock') add(p.cidr, p.except);
    }
  }
  return out;
}

/** Sorted cut points per family: addresses between two cuts are inside exactly the same CIDRs. */
function cutPoints(ranges: readonly AddressRange[]): Map<number, bigint[]> {
  const cuts = new Map<number, Set<bigint>>();
  for (const r of ranges) {
    let set = cuts.get(r.family);
    if (!set) cuts.set(r.family, (set = new Set()));
    set.add(r.first).add(r.last + 1n);
  }
  return new Map([...cuts].map(([f, s]) => [f, [...s].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))]));
}

function cellOf(cuts: Map<number, bigint[]>, ip: string): string {
  const family = familyOf(ip);
  const list = cuts.get(family);
  if (!list) return `${family}:0`;
  const v = ipToBigInt(ip);
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return `${family}:${lo}`;
}

const labelText = (labels: Record<string, string>): string =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');

/** Every group definition of several IR versions, by id (a group may differ between them). */
function allGroups(irs: readonly Ir[]): IrGroup[] {
  return irs.flatMap((ir) => ir.groups.filter((g) => g.id !== ANY_GROUP_ID));
}

/**
 * External endpoints: one per cell of the CIDR cut points that some CIDR member covers
 * (so a tightened or widened CIDR shows as the cells that changed), plus "anywhere".
 * Each is labelled with the groups that contain it and the first CIDR of its cell.
 */
function externalEndpoints(irs: readonly Ir[], cuts: Map<number, bigint[]>, taken: ReadonlySet<string>): Endpoint[] {
  const cidrGroups = allGroups(irs).flatMap((g) =>
    g.members.flatMap((m) => (m.kind === 'cidr' ? [{ name: g.name.startsWith('~') ? m.cidr : g.name, outer: cidrToRange(m.cidr), inner: subtractRanges([cidrToRange(m.cidr)], m.except.map(cidrToRange)) }] : [])),
  );
  const out: Endpoint[] = [{ key: 'external:any', label: 'any', kind: 'external', ip: WORLD_IP, pods: 0 }];
  for (const [family, points] of [...cuts].sort(([a], [b]) => a - b)) {
    for (let i = 0; i + 1 < points.length; i++) {
      const cell: AddressRange = { family: family as Family, first: points[i]!, last: points[i + 1]! - 1n };
      const inside = (r: AddressRange): boolean => r.family === cell.family && r.first <= cell.first && cell.last <= r.last;
      if (!cidrGroups.some((g) => inside(g.outer))) continue;
      let ip: string | undefined;
      for (let v = cell.first; v <= cell.last && v < cell.first + 16n && !ip; v++) if (!taken.has(bigIntToIp(v, cell.family))) ip = bigIntToIp(v, cell.family);
      if (!ip) continue;
      const names = [...new Set(cidrGroups.filter((g) => g.inner.some(inside)).map((g) => g.name))].sort();
      const cidrs = rangeToCidrs(cell);
      const where = `${cidrs[0]}${cidrs.length > 1 ? ' …' : ''}`;
      out.push({ key: `external:${ip}`, label: names.length ? `${names.join(', ')} [${where}]` : `[${where}]`, kind: 'external', ip, pods: 0 });
    }
  }
  return out;
}

/** Group definitions of several IR versions; the last version wins (HEAD's definition). */
function latestGroups(irs: readonly Ir[]): Map<string, IrGroup> {
  const out = new Map<string, IrGroup>();
  for (const ir of irs) for (const g of ir.groups) if (g.id !== ANY_GROUP_ID) out.set(g.id, g);
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function podClasses(inventory: Inventory, irs: readonly Ir[]): EndpointSet {
  const cuts = cutPoints(cidrRangesOf(irs));
  const classes = new Map<string, Endpoint>();
  const taken = new Set<string>();
  for (const pod of inventory.pods) {
    if (pod.hostNetwork || pod.ips.length === 0) continue;
    for (const ip of pod.ips) taken.add(ip);
    const labels = labelText(pod.labels);
    const ports = pod.ports.map((p) => `${p.name ?? ''}/${p.protocol}/${p.port}`).join(',');
    const key = `pods:${pod.namespace}|${labels}|${ports}|${pod.ips.map((ip) => cellOf(cuts, ip)).join(',')}`;
    const known = classes.get(key);
    if (!known) classes.set(key, { key, label: `${pod.namespace} {${labels}}`, kind: 'pods', namespace: pod.namespace, ip: pod.ips[0]!, pod, pods: 1, members: [pod] });
    else {
      known.pods++;
      known.members!.push(pod);
      // The representative is the first pod by name, whatever the inventory's order.
      if (pod.name < known.pod!.name) Object.assign(known, { pod, ip: pod.ips[0]! });
    }
  }
  const endpoints = [...[...classes.values()].sort((a, b) => (a.key < b.key ? -1 : 1)), ...externalEndpoints(irs, cuts, taken)];
  return { endpoints, namespaces: inventory.namespaces, services: inventory.services, notes: [] };
}

/** Labels that satisfy a selector (In: its first value, Exists: "x"; negative requirements: absent). */
function labelsFor(selector: IrSelector): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const r of selector) {
    if (r.op === 'In') labels[r.key] = r.values[0]!;
    else if (r.op === 'Exists') labels[r.key] = 'x';
  }
  return labels;
}

const scopeText = (scope: IrNamespaceScope): string => {
  switch (scope.kind) {
    case 'all':
      return '*';
    case 'names':
      return scope.names.join(',');
    case 'selector':
      return `ns{${selectorText(scope.selector)}}`;
    case 'tenant':
      return `tenant ${scope.tenant}`;
    case 'notTenant':
      return `outside ${scope.tenant}`;
  }
};

const selectorText = (selector: IrSelector): string =>
  selector.map((r) => (r.op === 'In' ? `${r.key}=${r.values.join('|')}` : r.op === 'NotIn' ? `${r.key}!=${r.values.join('|')}` : r.op === 'Exists' ? r.key : `!${r.key}`)).join(',');

/** A readable name for a group: its own, or for inline groups (`~hash`) their member. */
export function groupLabel(g: IrGroup): string {
  const m = g.members[0];
  if (!g.name.startsWith('~') || !m) return g.name;
  switch (m.kind) {
    case 'pods':
      return `${scopeText(m.scope)}${m.selector.length ? ` {${selectorText(m.selector)}}` : ''}`;
    case 'cidr':
      return m.cidr;
    case 'fqdn':
      return m.pattern;
    case 'service':
      return `service ${m.namespace}/${m.name}`;
    case 'group':
      return m.group.slice('group:'.length);
  }
}

export function groupEndpoints(irs: readonly Ir[]): EndpointSet {
  const head = irs[irs.length - 1]!;
  const namespaces = new Map<string, InventoryNamespace>();
  const notes: string[] = [];
  const namespace = (name: string, labels: Record<string, string> = {}): string => {
    if (!namespaces.has(name)) namespaces.set(name, { name, labels: { ...labels, 'kubernetes.io/metadata.name': name } });
    return name;
  };
  const scopeNamespace = (scope: IrNamespaceScope, group: string): string => {
    switch (scope.kind) {
      case 'all':
        return namespace('~any');
      case 'names':
        return namespace(scope.names[0]!);
      case 'selector': {
        const labels = labelsFor(scope.selector);
        return namespace(labels['kubernetes.io/metadata.name'] ?? `~${group}`, labels);
      }
      case 'tenant': {
        const t = head.tenants.find((x) => x.name === scope.tenant || x.id === scope.tenant);
        if (t?.namespaces.kind === 'names') return namespace(t.namespaces.names[0]!);
        return namespace(`~tenant-${scope.tenant}`, t ? labelsFor(t.namespaces.selector) : {});
      }
      case 'notTenant':
        return namespace(`~outside-${scope.tenant}`);
    }
  };
  const groups = latestGroups(irs);
  const endpoints: Endpoint[] = [];
  /** The pod member that stands for a group (nested groups: theirs); CIDR members are covered by the external cells. */
  const podMember = (g: IrGroup, depth: number): Extract<IrMember, { kind: 'pods' }> | 'cidr' | undefined => {
    let cidr = false;
    for (const m of g.members) {
      if (m.kind === 'pods' && m.cluster === undefined && m.network === undefined) return m;
      if (m.kind === 'cidr') cidr = true;
      if (m.kind === 'group' && depth < 8) {
        const inner = groups.get(m.group);
        const found = inner && podMember(inner, depth + 1);
        if (found && found !== 'cidr') return found;
        if (found) cidr = true;
      }
    }
    return cidr ? 'cidr' : undefined;
  };
  // A group whose pods changed between versions also gets a representative of its old
  // definition, so that the pods it no longer covers show what they lose.
  const definitions: { g: IrGroup; before: boolean }[] = [...groups.values()].map((g) => ({ g, before: false }));
  for (const ir of irs.slice(0, -1)) {
    for (const g of ir.groups) {
      const latest = groups.get(g.id);
      if (latest && canonicalJson(latest.members) !== canonicalJson(g.members)) definitions.push({ g, before: true });
    }
  }
  // Synthetic pods declare every named port the intents use (numbered from 60000), so that
  // named-port rules apply at group level; labels map the numbers back to the names.
  const named = new Set<string>();
  for (const ir of irs) {
    for (const p of [...ir.rules.flatMap((r) => r.ports), ...ir.networkPolicies.flatMap((np) => [...np.ingress, ...np.egress].flatMap((r) => r.ports ?? []))]) {
      if (p.name !== undefined && (p.protocol === 'tcp' || p.protocol === 'udp' || p.protocol === 'sctp')) named.add(`${p.protocol}/${p.name}`);
    }
  }
  const containerPorts = [...named].sort().map((text, i) => {
    const [protocol, name] = text.split('/') as ['tcp' | 'udp' | 'sctp', string];
    return { name, protocol, port: 60000 + i };
  });
  const portNames = new Map(containerPorts.map((p) => [`${p.protocol}/${p.port}`, `${p.protocol}/${p.name}`]));
  const placed = new Set<string>();
  for (const { g, before } of definitions) {
    const member = podMember(g, 0);
    if (member === 'cidr') continue;
    if (!member) {
      if (!before) notes.push(`group ${groupLabel(g)} has no member that can stand for it without an inventory (fqdn, service, secondary network or remote cluster); pass --inventory for its connections`);
      continue;
    }
    // The "outside the tenant" side of isolation is every other group: no endpoint of its own.
    if (member.scope.kind === 'notTenant' && g.name.startsWith('~')) continue;
    const ns = scopeNamespace(member.scope, g.name);
    const labels = labelsFor(member.selector);
    const where = `${g.id}|${ns}|${canonicalJson(labels)}`;
    if (placed.has(where)) continue;
    placed.add(where);
    const n = endpoints.length + 1;
    const ip = `198.18.${n >> 8}.${n & 255}`;
    const pod: InventoryPod = { namespace: ns, name: `~${g.name}`, uid: `~${g.name}`, labels, annotations: {}, ips: [ip], ports: containerPorts, networks: [], hostNetwork: false };
    endpoints.push({ key: before ? `${g.id}@before` : g.id, label: before ? `${groupLabel(g)} (old definition)` : groupLabel(g), kind: 'group', namespace: ns, ip, pod, pods: 0 });
  }
  const taken = new Set(endpoints.map((e) => e.ip));
  endpoints.push(...externalEndpoints(irs, cutPoints(cidrRangesOf(irs)), taken));
  return { endpoints, namespaces: [...namespaces.values()].sort((a, b) => (a.name < b.name ? -1 : 1)), services: [], notes, portNames };
}
