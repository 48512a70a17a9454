import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AddressSpace, bigIntToIp, coveringCidr, ipToBigInt, parseCidr } from '../../../src/backends/ipam/addresses.js';

describe('address arithmetic', () => {
  it('round-trips IPv4 and IPv6 through bigints', () => {
    expect(bigIntToIp(ipToBigInt('10.1.2.3'), 4)).toBe('10.1.2.3');
    expect(bigIntToIp(ipToBigInt('fd00:10::1ff'), 6)).toBe('fd00:10::1ff');
  });

  it('finds the covering block of a range', () => {
    const c = coveringCidr(ipToBigInt('10.10.0.40'), ipToBigInt('10.10.0.47'), 4);
    expect([bigIntToIp(c.network, 4), c.prefix]).toEqual(['10.10.0.40', 29]);
    expect(parseCidr('10.10.0.7/24')!.network).toBe(ipToBigInt('10.10.0.0'));
  });

  it('counts excluded addresses out of the usable space', () => {
    const space = new AddressSpace(4, [{ first: ipToBigInt('10.0.0.10'), last: ipToBigInt('10.0.0.20') }, { first: ipToBigInt('10.0.0.30'), last: ipToBigInt('10.0.0.30') }], [ipToBigInt('10.0.0.15'), ipToBigInt('10.0.0.10')]);
    expect(space.size).toBe(10n);
    expect(space.at(0n)).toBe('10.0.0.11');
    expect(space.at(4n)).toBe('10.0.0.16');
    expect(space.at(9n)).toBe('10.0.0.30');
    expect(space.at(10n)).toBeUndefined();
    expect(space.indexOf('10.0.0.15')).toBeUndefined();
    expect(space.indexOf('10.0.0.30')).toBe(9n);
  });

  it('at() and indexOf() are inverse on any pool', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 600 }),
        fc.integer({ min: 1, max: 500 }),
        fc.array(fc.integer({ min: 0, max: 520 }), { maxLength: 20 }),
        (start, length, holes) => {
          const first = BigInt(start);
          const space = new AddressSpace(4, [{ first, last: first + BigInt(length - 1) }], holes.map((h) => first + BigInt(h)));
          const inside = new Set(holes.filter((h) => h < length)).size;
          expect(space.size).toBe(BigInt(length - inside));
          for (let i = 0n; i < space.size; i++) expect(space.indexOf(space.at(i)!)).toBe(i);
        },
      ),
      { numRuns: 50 },
    );
  });
});
