import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { NETINTENT_IP, readFixedAddressRequests } from '../../src/admission/annotations.js';
import { parseAddress } from '../../src/admission/ir-index.js';

/** What ipaddr.js's general parser makes of a text: the reference for the dotted-quad fast path. */
function generalParse(text: string): { canonical: string; family: 4 | 6; value: bigint } | undefined {
  if (!ipaddr.isValid(text)) return undefined;
  const addr = ipaddr.process(text);
  const value = addr.toByteArray().reduce((n, byte) => (n << 8n) | BigInt(byte), 0n);
  return { canonical: addr.toString(), family: addr.kind() === 'ipv4' ? 4 : 6, value };
}

// Parts a dotted address can be written with: plain, leading zeros (octal to inet_aton),
// hex, too large; joined by 1 to 4 so that short and odd forms come up as well as quads.
const part = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map(String),
  fc.integer({ min: 0, max: 255 }).map((n) => `0${n}`),
  fc.integer({ min: 0, max: 255 }).map((n) => `0x${n.toString(16)}`),
  fc.integer({ min: 256, max: 99999 }).map(String),
);
const addressText = fc.oneof(
  fc.array(part, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('.')),
  fc.ipV4(),
  fc.ipV6(),
  fc.ipV4().map((ip) => `::ffff:${ip}`),
);

describe('addresses in annotations', () => {
  it('reads every form as ipaddr.js does: dotted quads take the fast path, the rest the general parser', () => {
    fc.assert(
      fc.property(addressText, (text) => {
        const reference = generalParse(text);
        const read = readFixedAddressRequests({ [NETINTENT_IP]: text });
        if (reference) expect(read.addresses).toEqual([{ annotation: NETINTENT_IP, ips: [reference.canonical] }]);
        else expect(read.problems).toHaveLength(1);
        const parsed = parseAddress(text);
        expect(parsed).toEqual(reference && { family: reference.family, value: reference.value });
      }),
      { numRuns: 2000 },
    );
  });
});
