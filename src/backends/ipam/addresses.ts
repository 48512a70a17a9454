/**
 * IP arithmetic on top of ipaddr.js: addresses as bigints so that IPv6 pools of any size
 * work, and the usable address space of a pool as a list of segments, so that "the Nth
 * usable address" and "the index of address A" are cheap without listing the pool.
 */
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

export function familyOf(ip: string): Family {
  return ipaddr.parse(ip).kind() === 'ipv4' ? 4 : 6;
}

/** Canonical text (ipaddr.js normal form, IPv4-mapped IPv6 folded to IPv4), or undefined. */
export function canonicalIp(text: string): string | undefined {
  return ipaddr.isValid(text) ? ipaddr.process(text).toString() : undefined;
}

export function ipToBigInt(ip: string): bigint {
  let value = 0n;
  for (const byte of ipaddr.parse(ip).toByteArray()) value = (value << 8n) | BigInt(byte);
  return value;
}

export function bigIntToIp(value: bigint, family: Family): string {
  const bytes: number[] = [];
  for (let i = 0; i < (family === 4 ? 4 : 16); i++) {
    bytes.unshift(Number(value & 0xffn));
    value >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

export interface Cidr {
  family: Family;
  network: bigint;
  prefix: number;
  /** Last address of the block (the IPv4 broadcast address). */
  last: bigint;
}

export function parseCidr(text: string): Cidr | undefined {
  if (!ipaddr.isValidCIDR(text)) return undefined;
  const [addr, prefix] = ipaddr.parseCIDR(text);
  const family: Family = addr.kind() === 'ipv4' ? 4 : 6;
  const bits = family === 4 ? 32 : 128;
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  const network = ipToBigInt(addr.toString()) & ~hostMask;
  return { family, network, prefix, last: network | hostMask };
}

export function cidrContains(cidr: Cidr, ip: bigint, family: Family): boolean {
  return cidr.family === family && ip >= cidr.network && ip <= cidr.last;
}

/** The smallest CIDR block holding every address from first to last. */
export function coveringCidr(first: bigint, last: bigint, family: Family): Cidr {
  const bits = family === 4 ? 32 : 128;
  let prefix = bits;
  while (prefix > 0 && first >> BigInt(bits - prefix) !== last >> BigInt(bits - prefix)) prefix--;
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  return { family, network: first & ~hostMask, prefix, last: (first & ~hostMask) | hostMask };
}

/** A run of consecutive usable addresses. */
interface Segment {
  start: bigint;
  count: bigint;
}

/**
 * The usable addresses of a pool: its ranges in order minus the excluded addresses.
 * Index 0 is the first usable address; StatefulSet ordinal N is index N.
 */
export class AddressSpace {
  readonly size: bigint;
  private readonly segments: Segment[];

  constructor(
    readonly family: Family,
    ranges: { first: bigint; last: bigint }[],
    excluded: Iterable<bigint>,
  ) {
    const holes = [...new Set(excluded)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.segments = [];
    for (const range of ranges) {
      let start = range.first;
      for (const hole of holes) {
        if (hole < start || hole > range.last) continue;
        if (hole > start) this.segments.push({ start, count: hole - start });
        start = hole + 1n;
      }
      if (start <= range.last) this.segments.push({ start, count: range.last - start + 1n });
    }
    this.size = this.segments.reduce((sum, s) => sum + s.count, 0n);
  }

  /** The address at `index` (0-based), or undefined past the end. */
  at(index: bigint): string | undefined {
    let rest = index;
    for (const segment of this.segments) {
      if (rest < segment.count) return bigIntToIp(segment.start + rest, this.family);
      rest -= segment.count;
    }
    return undefined;
  }

  /** The index of a usable address, or undefined when it is outside or excluded. */
  indexOf(ip: string): bigint | undefined {
    if (familyOf(ip) !== this.family) return undefined;
    const value = ipToBigInt(ip);
    let before = 0n;
    for (const segment of this.segments) {
      if (value >= segment.start && value < segment.start + segment.count) return before + value - segment.start;
      before += segment.count;
    }
    return undefined;
  }
}
