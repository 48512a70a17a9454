import { describe, expect, test } from 'vitest';
import { FQDN_TIMEOUT, fqdnSetsOfAnswer, parseDnsmasqReply, renderFqdnRefresh } from '../../../src/backends/l7/index.js';

describe('FQDN set refresh from dnsmasq answers', () => {
  test('answers are read from dnsmasq log lines; CNAMEs and negative answers are not addresses', () => {
    expect(parseDnsmasqReply('dnsmasq[4711]: 7 10.123.3.1/40312 reply API.foobar.com is 10.123.200.4')).toEqual({ name: 'api.foobar.com', ip: '10.123.200.4' });
    expect(parseDnsmasqReply('dnsmasq[4711]: 8 10.123.3.1/40312 reply v6.example.com. is fd00::5')).toEqual({ name: 'v6.example.com', ip: 'fd00::5' });
    for (const line of [
      'dnsmasq[1]: 9 10.0.0.1/1 reply www.example.com is <CNAME>',
      'dnsmasq[1]: 9 10.0.0.1/1 reply nothere.example.com is NXDOMAIN',
      'dnsmasq[1]: 9 10.0.0.1/1 reply example.com is NODATA-IPv6',
      'dnsmasq[1]: 9 10.0.0.1/1 query[A] example.com from 10.0.0.1',
      'dnsmasq[1]: 9 10.0.0.1/1 forwarded example.com to 10.0.0.53',
    ]) {
      expect(parseDnsmasqReply(line), line).toBeUndefined();
    }
  });

  test('an answer feeds the sets whose domain it is or is under, by whole labels, per family', () => {
    const sets = new Map([
      ['my-remote-service.com', 'fq_a_4'],
      ['*.example.com', 'fq_b_4'],
      ['*foobar.com', 'fq_c_4'],
    ]);
    expect(fqdnSetsOfAnswer({ name: 'my-remote-service.com', ip: '10.0.0.1' }, sets)).toEqual(['fq_a_4']);
    expect(fqdnSetsOfAnswer({ name: 'sub.my-remote-service.com', ip: '10.0.0.1' }, sets)).toEqual(['fq_a_4']);
    expect(fqdnSetsOfAnswer({ name: 'a.b.example.com', ip: 'fd00::1' }, sets)).toEqual(['fq_b_6']);
    expect(fqdnSetsOfAnswer({ name: 'api.foobar.com', ip: '10.0.0.2' }, sets)).toEqual(['fq_c_4']);
    // dnsmasq's nftset matches whole labels: xfoobar.com is not under foobar.com.
    expect(fqdnSetsOfAnswer({ name: 'xfoobar.com', ip: '10.0.0.3' }, sets)).toEqual([]);
    expect(fqdnSetsOfAnswer({ name: 'evil.com', ip: '10.0.0.4' }, sets)).toEqual([]);
  });

  test('one transaction per batch: add (if expired), delete, add with the set default timeout', () => {
    expect(renderFqdnRefresh([])).toBe('');
    expect(renderFqdnRefresh([{ set: 'fq_a_4', ip: '10.0.0.1' }, { set: 'fq_b_6', ip: 'fd00::1' }])).toBe(
      [
        'add element inet netintent fq_a_4 { 10.0.0.1 }',
        'delete element inet netintent fq_a_4 { 10.0.0.1 }',
        'add element inet netintent fq_a_4 { 10.0.0.1 }',
        'add element inet netintent fq_b_6 { fd00::1 }',
        'delete element inet netintent fq_b_6 { fd00::1 }',
        'add element inet netintent fq_b_6 { fd00::1 }',
        '',
      ].join('\n'),
    );
    expect(FQDN_TIMEOUT).toBe('330s');
  });
});
