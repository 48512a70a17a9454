/**
 * SelectorResolver seen from one pod: whether a pod's address belongs to a member, decided
 * from that pod, the namespaces and the services alone. Incremental updates use it to place
 * the addresses of the pods that changed without resolving any selector against all pods.
 * Each answer agrees with the address set SelectorResolver.member builds for the same
 * inventory (the nftables property tests hold the two against each other).
 */
import type { IrMember, IrNamespaceScope, IrSelector } from '../ir/types.js';
import { matchesSelector } from '../ir/selector.js';
import { familyOf } from '../ir/address.js';
import type { InventoryPod, InventoryService } from '../inventory/index.js';
import type { NamespaceIndex } from './namespaces.js';
import { rangesContain, type AddressRange } from './ranges.js';
import { cidrRanges, podAddresses, serviceSelector } from './resolver.js';

export class PodMembership {
  private readonly services = new Map<string, InventoryService>();
  private readonly ranges = new WeakMap<IrMember, readonly AddressRange[]>();

  constructor(
    readonly namespaces: NamespaceIndex,
    services: readonly InventoryService[],
  ) {
    // The first service of a name, as SelectorResolver finds it.
    for (const svc of services) if (!this.services.has(`${svc.namespace}/${svc.name}`)) this.services.set(`${svc.namespace}/${svc.name}`, svc);
  }

  /** Whether `selector` in `scope` selects the pod (hostNetwork pods are never selected: their IPs are the node's). */
  selects(scope: IrNamespaceScope, selector: IrSelector, pod: InventoryPod): boolean {
    return !pod.hostNetwork && this.namespaces.contains(scope, pod.namespace) && matchesSelector(selector, pod.labels);
  }

  /** Whether the pod's address `ip` belongs to a leaf member (groups flattened by the caller) through the pod. */
  podHolds(member: IrMember, pod: InventoryPod, ip: string): boolean {
    switch (member.kind) {
      case 'pods':
        return member.cluster === undefined && this.selects(member.scope, member.selector, pod) && podAddresses(pod, member.network).includes(ip);
      case 'service': {
        if (member.cluster !== undefined) return false;
        const selector = serviceSelector(this.services.get(`${member.namespace}/${member.name}`));
        return selector !== undefined && this.selects({ kind: 'names', names: [member.namespace] }, selector, pod) && pod.ips.includes(ip);
      }
      default:
        return false;
    }
  }

  /** Whether `ip` is one of the member's single addresses whatever the pods: a service's cluster IPs. */
  fixedHost(member: IrMember, ip: string): boolean {
    return member.kind === 'service' && member.cluster === undefined && (this.services.get(`${member.namespace}/${member.name}`)?.clusterIps.includes(ip) ?? false);
  }

  /** Whether `ip` (numeric `value`) lies in the member's CIDR ranges. */
  inRanges(member: IrMember, ip: string, value: bigint): boolean {
    if (member.kind !== 'cidr') return false;
    let ranges = this.ranges.get(member);
    if (!ranges) this.ranges.set(member, (ranges = cidrRanges(member.cidr, member.except)));
    return rangesContain(ranges, familyOf(ip), value);
  }
}
