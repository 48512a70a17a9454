/**
 * Address arithmetic on top of ipaddr.js: canonical text, CIDR/range parsing and
 * BigInt intervals (so IPv4 and IPv6 share one code path for overlap checks).
 */
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

export interface Interval {
  family: Family;
  first: bigint;
  last: bigint;
}

const CANONICAL_IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function isIp(text: string): boolean {
  // Only dotted quads and plain IPv6: ipaddr.js also accepts forms like "10" or "0xa.1".
  // A canonical dotted quad (the common case) is one without asking ipaddr.js.
  return CANONICAL_IPV4.test(text) || ipaddr.IPv4.isValidFourPartDecimal(text) || (text.includes(':') && !text.includes('%') && ipaddr.IPv6.isValid(text));
}

/** A dotted quad without leading zeros: already canonical (the common case in inventories and annotations). */
export function isCanonicalIpv4(text: string): boolean {
  return CANONICAL_IPV4.test(text);
}

/** Canonical text of an IP (IPv4-mapped IPv6 becomes IPv4), or undefined if invalid. */
export function canonicalIp(text: string): string | undefined {
  if (isCanonicalIpv4(text)) return text;
  return isIp(text) ? ipaddr.process(text).toString() : undefined;
}

export function familyOf(ip: string): Family {
  return ip.includes(':') ? 6 : 4;
}

export function ipToBigInt(ip: string): bigint {
  if (isCanonicalIpv4(ip)) {
    // Dotted quads are most of any inventory: skip the general parser.
    const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
    return BigInt(((a << 24) >>> 0) + (b << 16) + (c << 8) + d);
  }
  const bytes = ipaddr.parse(ip).toByteArray();
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

export function bigIntToIp(n: bigint, family: Family): string {
  if (family === 4) {
    // What ipaddr.js would print, without building its address object.
    const v = Number(n & 0xffffffffn);
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const bytes = new Array<number>(16);
  for (let i = 15; i >= 0; i--) {
    bytes[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

export type CidrResult =
  | { ok: true; canonical: string; family: Family; prefix: number; interval: Interval; hostBitsSet: boolean }
  | { ok: false; reason: string };

/** Parses `addr/len`; a bare IP is not a CIDR here (callers decide whether to accept /32). */
export function parseCidr(text: string): CidrResult {
  const slash = text.indexOf('/');
  if (slash < 0) return { ok: false, reason: 'missing prefix length' };
  const addr = text.slice(0, slash);
  const lenText = text.slice(slash + 1);
  if (!isCanonicalIpv4(addr) && !isIp(addr)) return { ok: false, reason: `"${addr}" is not an IP address` };
  if (!/^\d{1,3}$/.test(lenText)) return { ok: false, reason: `"${lenText}" is not a prefix length` };
  const family = familyOf(addr); // a valid address has a colon exactly when it is IPv6
  const prefix = Number(lenText);
  const bits = family === 4 ? 32 : 128;
  if (prefix > bits) return { ok: false, reason: `prefix length ${prefix} exceeds ${bits}` };
  const value = ipToBigInt(addr);
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  const first = value & ~hostMask;
  const last = first | hostMask;
  return {
    ok: true,
    canonical: `${bigIntToIp(first, family)}/${prefix}`,
    family,
    prefix,
    interval: { family, first, last },
    hostBitsSet: first !== value,
  };
}

export function intervalContains(outer: Interval, inner: Interval): boolean {
  return outer.family === inner.family && outer.first <= inner.first && inner.last <= outer.last;
}

export function intervalsOverlap(a: Interval, b: Interval): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

export function intervalSize(i: Interval): bigint {
  return i.last - i.first + 1n;
}
