/**
 * Exact address-range arithmetic (bigint), so that a CIDR minus its `except` blocks and the
 * union of several such peers can be written as one interval set without approximation.
 */
import { bigIntToIp, parseCidr, type Family, type Interval } from '../ir/address.js';

/** Inclusive range of one family. Lists of ranges are kept sorted, disjoint and non-adjacent. */
export type AddressRange = Interval;

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

/** The range of a canonical CIDR (the IR only holds valid ones). */
export function cidrToRange(cidr: string): AddressRange {
  const parsed = parseCidr(cidr);
  if (!parsed.ok) throw new Error(`invalid CIDR ${cidr} in the IR: ${parsed.reason}`);
  return { ...parsed.interval };
}

/** Sorted, disjoint, adjacent ranges merged. */
export function normalizeRanges(ranges: readonly AddressRange[]): AddressRange[] {
  const sorted = [...ranges].sort((a, b) => a.family - b.family || (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: AddressRange[] = [];
  for (const r of sorted) {
    const prev = out[out.length - 1];
    if (prev && prev.family === r.family && r.first <= prev.last + 1n) {
      if (r.last > prev.last) prev.last = r.last;
    } else out.push({ ...r });
  }
  return out;
}

/** `ranges` minus `holes` (both normalized or not). */
export function subtractRanges(ranges: readonly AddressRange[], holes: readonly AddressRange[]): AddressRange[] {
  let current = normalizeRanges(ranges);
  for (const hole of normalizeRanges(holes)) {
    const next: AddressRange[] = [];
    for (const r of current) {
      if (r.family !== hole.family || hole.last < r.first || hole.first > r.last) {
        next.push(r);
        continue;
      }
      if (hole.first > r.first) next.push({ family: r.family, first: r.first, last: hole.first - 1n });
      if (hole.last < r.last) next.push({ family: r.family, first: hole.last + 1n, last: r.last });
    }
    current = next;
  }
  return current;
}

export function rangesContain(ranges: readonly AddressRange[], family: Family, value: bigint): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    if (r.family < family || (r.family === family && r.last < value)) lo = mid + 1;
    else if (r.family > family || r.first > value) hi = mid - 1;
    else return true;
  }
  return false;
}

/** The smallest list of CIDRs covering exactly the range (readable set elements). */
export function rangeToCidrs(r: AddressRange): string[] {
  const width = BITS[r.family];
  const out: string[] = [];
  let start = r.first;
  while (start <= r.last) {
    let size = 0;
    while (size < width) {
      const next = size + 1;
      const aligned = (start & ((1n << BigInt(next)) - 1n)) === 0n;
      if (!aligned || start + (1n << BigInt(next)) - 1n > r.last) break;
      size = next;
    }
    out.push(`${bigIntToIp(start, r.family)}/${width - size}`);
    start += 1n << BigInt(size);
  }
  return out;
}
