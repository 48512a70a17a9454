import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { bigIntToIp, canonicalIp, ipToBigInt, parseCidr } from '../../src/ir/address.js';

describe('address helpers', () => {
  it('canonicalises IPs and rejects the odd forms ipaddr.js would accept', () => {
    expect(canonicalIp('10.0.0.1')).toBe('10.0.0.1');
    expect(canonicalIp('FD00:0:0::5')).toBe('fd00::5');
    expect(canonicalIp('::ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(canonicalIp('10')).toBeUndefined();
    expect(canonicalIp('0xa.0.0.1')).toBeUndefined();
    expect(canonicalIp('fe80::1%eth0')).toBeUndefined();
  });

  it('parses CIDRs, clears host bits and says so', () => {
    const r = parseCidr('10.1.2.3/16');
    expect(r).toMatchObject({ ok: true, canonical: '10.1.0.0/16', hostBitsSet: true, prefix: 16 });
    expect(parseCidr('fd00::/64')).toMatchObject({ ok: true, canonical: 'fd00::/64', hostBitsSet: false });
    expect(parseCidr('10.0.0.0/33')).toMatchObject({ ok: false });
    expect(parseCidr('10.0.0.0')).toMatchObject({ ok: false, reason: 'missing prefix length' });
    expect(parseCidr('x/8')).toMatchObject({ ok: false });
  });

  it('BigInt round trip for any IPv4 and IPv6 address', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => bigIntToIp(ipToBigInt(ip), 4) === canonicalIp(ip)),
    );
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const c = canonicalIp(ip);
        return c === undefined || c.includes('.') || bigIntToIp(ipToBigInt(c), 6) === c;
      }),
    );
  });

  it('parses any CIDR the way ipaddr.js does (the dotted-quad fast path included)', () => {
    const v4 = fc.tuple(fc.oneof(fc.ipV4(), fc.ipV4Extended()), fc.integer({ min: 0, max: 34 }));
    const v6 = fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 130 }));
    fc.assert(
      fc.property(fc.oneof(v4, v6), ([addr, len]) => {
        const r = parseCidr(`${addr}/${len}`);
        const six = addr.includes(':');
        const valid = six ? ipaddr.IPv6.isValid(addr) && len <= 128 : ipaddr.IPv4.isValidFourPartDecimal(addr) && len <= 32;
        if (!valid) return !r.ok;
        const network = (six ? ipaddr.IPv6 : ipaddr.IPv4).networkAddressFromCIDR(`${addr}/${len}`).toString();
        return r.ok && r.family === (six ? 6 : 4) && r.canonical === `${network}/${len}` && bigIntToIp(r.interval.first, r.family) === network;
      }),
      { numRuns: 2000 },
    );
  });
});
