/**
 * The plan laid over the network config: per pool its subnet (prefix length of the
 * returned address), gateway and usable address space. Pure.
 *
 * Never handed out: the gateway, the subnet's network address (and IPv4 broadcast), the
 * pool's reserved addresses and every fixed IP of the plan. StatefulSet ordinal N is the
 * Nth address that is left, so these must be the same on every node.
 */
import type { IrFixedIp, IrPool, IrTenant } from '../../ir/types.js';
import { AddressSpace, bigIntToIp, cidrContains, coveringCidr, familyOf, ipToBigInt, type Cidr, type Family } from './addresses.js';
import type { IpamConfig } from './config.js';
import type { IpamPlan } from './plan.js';

export interface PoolLayout {
  pool: IrPool;
  subnet: Cidr;
  gateway: string;
  space: AddressSpace;
}

export interface AddressLayout {
  subnet: Cidr;
  gateway?: string;
}

export class PlanLayout {
  readonly pools: PoolLayout[];
  readonly tenants: IrTenant[];
  private readonly poolById = new Map<string, PoolLayout>();
  private readonly fixedByPod = new Map<string, IrFixedIp>();
  /** Fixed IP → `namespace/pod` it belongs to. */
  readonly fixedOwner = new Map<string, string>();

  constructor(
    plan: IpamPlan,
    private readonly config: Pick<IpamConfig, 'subnets' | 'gateways'>,
  ) {
    this.tenants = plan.tenants;
    for (const fixed of plan.fixedIps) {
      this.fixedByPod.set(`${fixed.namespace}/${fixed.pod}`, fixed);
      for (const ip of fixed.ips) this.fixedOwner.set(ip, `${fixed.namespace}/${fixed.pod}`);
    }
    const fixedValues = [...this.fixedOwner.keys()].map((ip) => ({ family: familyOf(ip), value: ipToBigInt(ip) }));
    this.pools = plan.pools.map((pool) => {
      const ranges = pool.ranges.map((r) => ({ first: ipToBigInt(r.first), last: ipToBigInt(r.last) }));
      const first = ranges.reduce((m, r) => (r.first < m ? r.first : m), ranges[0]?.first ?? 0n);
      const last = ranges.reduce((m, r) => (r.last > m ? r.last : m), ranges[0]?.last ?? 0n);
      const { subnet, gateway } = this.networkOf(first, pool.family) ?? this.defaultNetwork(first, last, pool.family);
      const excluded = [
        ...pool.reserved.map(ipToBigInt),
        ipToBigInt(gateway),
        subnet.network,
        ...(pool.family === 4 ? [subnet.last] : []),
        ...fixedValues.filter((f) => f.family === pool.family).map((f) => f.value),
      ];
      const layout: PoolLayout = { pool, subnet, gateway, space: new AddressSpace(pool.family, ranges, excluded) };
      this.poolById.set(pool.id, layout);
      return layout;
    });
  }

  pool(id: string): PoolLayout | undefined {
    return this.poolById.get(id);
  }

  fixedIpsOf(namespace: string, pod: string): IrFixedIp | undefined {
    return this.fixedByPod.get(`${namespace}/${pod}`);
  }

  /** The pool whose ranges hold `ip` (reserved addresses included), if any. */
  poolContaining(ip: string): PoolLayout | undefined {
    const family = familyOf(ip);
    const value = ipToBigInt(ip);
    return this.pools.find((p) => p.pool.family === family && p.pool.ranges.some((r) => value >= ipToBigInt(r.first) && value <= ipToBigInt(r.last)));
  }

  /** Subnet and gateway for any address handed out (pool, fixed or requested). */
  layoutOf(ip: string): AddressLayout {
    const pool = this.poolContaining(ip);
    if (pool) return { subnet: pool.subnet, gateway: pool.gateway };
    const family = familyOf(ip);
    const value = ipToBigInt(ip);
    const configured = this.networkOf(value, family);
    if (configured) return configured;
    // A fixed IP outside every pool and subnet: a host route, no gateway to offer.
    return { subnet: coveringCidr(value, value, family) };
  }

  /** The configured subnet holding `value`, with its gateway. */
  private networkOf(value: bigint, family: Family): { subnet: Cidr; gateway: string } | undefined {
    const entry = this.config.subnets.find((s) => cidrContains(s.cidr, value, family));
    if (!entry) return undefined;
    return { subnet: entry.cidr, gateway: entry.gateway ?? this.gatewayIn(entry.cidr) };
  }

  /** No configured subnet: the pool's own covering block (its prefix), as for `10.10.0.40/29`. */
  private defaultNetwork(first: bigint, last: bigint, family: Family): { subnet: Cidr; gateway: string } {
    const subnet = coveringCidr(first, last, family);
    return { subnet, gateway: this.gatewayIn(subnet) };
  }

  /** An explicit gateway inside the subnet, else its first host address (host-local's default). */
  private gatewayIn(subnet: Cidr): string {
    const explicit = this.config.gateways.find((g) => cidrContains(subnet, ipToBigInt(g), familyOf(g)));
    return explicit ?? bigIntToIp(subnet.network + 1n, subnet.family);
  }
}
