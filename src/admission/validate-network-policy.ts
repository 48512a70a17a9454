/**
 * NetworkPolicies in a strict tenant's namespaces cannot open traffic to or from other
 * tenants (the admin tier drops it anyway): reject them so the author knows. Namespace
 * selectors are checked against the known namespaces (`{}` is every namespace); ipBlocks,
 * after their `except` blocks, against the address pools of the other tenants.
 */
import type { Ir, IrSelector, IrSelectorOp, IrTenant } from '../ir/types.js';
import { matchesSelector, tenantOwnsNamespace } from '../ir/selector.js';
import { ipToBigInt, familyOf, parseCidr } from '../ir/address.js';
import { cidrToRange, subtractRanges, type AddressRange } from '../resolve/ranges.js';
import { sourceOf, type AdmissionIndex } from './ir-index.js';
import { isObject, namespaceLabelsOf, stringMap, type JsonObject } from './pod.js';
import type { Violation } from './violation.js';

const OPERATORS = new Set<IrSelectorOp>(['In', 'NotIn', 'Exists', 'DoesNotExist']);

/** A Kubernetes LabelSelector as an IR selector; undefined when it is not one. */
function toSelector(value: unknown): IrSelector | undefined {
  if (!isObject(value)) return undefined;
  const selector: IrSelector = Object.entries(stringMap(value.matchLabels)).map(([key, v]) => ({ key, op: 'In', values: [v] }));
  for (const e of Array.isArray(value.matchExpressions) ? value.matchExpressions : []) {
    if (!isObject(e) || typeof e.key !== 'string' || !OPERATORS.has(e.operator as IrSelectorOp)) return undefined;
    const values = Array.isArray(e.values) ? e.values.filter((v): v is string => typeof v === 'string') : [];
    selector.push({ key: e.key, op: e.operator as IrSelectorOp, values });
  }
  return selector;
}

/** The namespaces the webhook knows: the inventory's plus those tenants name. */
function knownNamespaces(index: AdmissionIndex, namespaces: ReadonlyMap<string, Readonly<Record<string, string>>>): { name: string; labels: Record<string, string> }[] {
  const names = new Set(namespaces.keys());
  for (const t of index.ir.tenants) if (t.namespaces.kind === 'names') for (const n of t.namespaces.names) names.add(n);
  return [...names].sort().map((name) => ({ name, labels: { ...namespaceLabelsOf(namespaces, name) } }));
}

/** Pools of other tenants that an ipBlock (minus its excepts) reaches, described; undefined when the block is malformed (the API server rejects it). */
function otherTenantsPoolsIn(ir: Ir, tenant: IrTenant, ipBlock: unknown): string[] | undefined {
  if (!isObject(ipBlock) || typeof ipBlock.cidr !== 'string') return undefined;
  const cidr = parseCidr(ipBlock.cidr);
  if (!cidr.ok) return undefined;
  const excepts = (Array.isArray(ipBlock.except) ? ipBlock.except : []).flatMap((e) => {
    const c = typeof e === 'string' ? parseCidr(e) : undefined;
    return c?.ok ? [c.interval] : [];
  });
  const reached = subtractRanges([cidrToRange(cidr.canonical)], excepts);
  const overlaps = (r: AddressRange): boolean => reached.some((b) => b.family === r.family && b.first <= r.last && r.first <= b.last);
  return ir.pools
    .filter((pool) => pool.tenant !== undefined && pool.tenant !== tenant.name && pool.tenant !== tenant.id)
    .filter((pool) => pool.ranges.some((r) => overlaps({ family: familyOf(r.first), first: ipToBigInt(r.first), last: ipToBigInt(r.last) })))
    .map((pool) => `pool "${pool.name}" of tenant "${pool.tenant}" (${pool.ranges.map((r) => (r.first === r.last ? r.first : `${r.first}-${r.last}`)).join(', ')})`);
}

export function validateNetworkPolicy(
  index: AdmissionIndex,
  tenant: IrTenant | undefined,
  display: string,
  object: JsonObject,
  namespaces: ReadonlyMap<string, Readonly<Record<string, string>>>,
): Violation[] {
  if (!tenant || tenant.isolation !== 'strict') return [];
  const spec = isObject(object.spec) ? object.spec : {};
  const violations: Violation[] = [];
  let known: { name: string; labels: Record<string, string> }[] | undefined;
  for (const [direction, peersKey] of [['ingress', 'from'], ['egress', 'to']] as const) {
    const rules = Array.isArray(spec[direction]) ? spec[direction] : [];
    rules.forEach((rule, i) => {
      const peers = isObject(rule) && Array.isArray(rule[peersKey]) ? rule[peersKey] : [];
      peers.forEach((peer, j) => {
        if (isObject(peer) && peer.ipBlock !== undefined) {
          const pools = otherTenantsPoolsIn(index.ir, tenant, peer.ipBlock) ?? [];
          const field = `spec.${direction}[${i}].${peersKey}[${j}].ipBlock`;
          const block = isObject(peer.ipBlock) ? String(peer.ipBlock.cidr) : '';
          if (pools.length) violations.push({ code: 'NI7019', args: [display, field, block, tenant.name, sourceOf(index.ir, tenant.id), pools.length > 5 ? `${pools.slice(0, 5).join(', ')}, …` : pools.join(', ')] });
          return;
        }
        if (!isObject(peer) || peer.namespaceSelector === undefined) return;
        const selector = toSelector(peer.namespaceSelector);
        if (!selector) return;
        let outside: string;
        if (selector.length === 0) {
          outside = 'every namespace';
        } else {
          known ??= knownNamespaces(index, namespaces);
          const names = known.filter((ns) => !tenantOwnsNamespace(tenant, ns) && matchesSelector(selector, ns.labels)).map((ns) => ns.name);
          if (names.length === 0) return;
          outside = names.length > 5 ? `${names.slice(0, 5).join(', ')}, …` : names.join(', ');
        }
        const field = `spec.${direction}[${i}].${peersKey}[${j}].namespaceSelector`;
        violations.push({ code: 'NI7013', args: [display, field, tenant.name, sourceOf(index.ir, tenant.id), outside] });
      });
    });
  }
  return violations;
}
