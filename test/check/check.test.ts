import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalJson } from '../../src/ir/canonical.js';
import { compileTexts } from '../../src/sources/index.js';

/** Compiles DSL snippets (one file each) and returns `CODE line:col message` lines. */
function diagnosticsOf(...texts: string[]): string[] {
  const result = compileTexts(texts.map((text, i) => ({ path: `f${i}.intent`, text })));
  return result.diagnostics.map((d) => `${d.code} ${d.span ? `${d.span.file}:${d.span.start.line}:${d.span.start.col}` : '-'} ${d.message}`);
}

describe('check: names', () => {
  it('unknown group, with the span of the name', () => {
    expect(diagnosticsOf('policy p {\n  allow wbe -> any\n}\n')).toEqual(['NI2001 f0.intent:2:9 Unknown group "wbe".']);
  });

  it('duplicates across files point at both declarations', () => {
    const r = compileTexts([
      { path: 'a.intent', text: 'group web { cidr 10.0.0.0/8 }\n' },
      { path: 'b.intent', text: 'group web { cidr 10.0.0.0/8 }\n' },
    ]);
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ code: 'NI2002', span: { file: 'b.intent' }, related: [{ span: { file: 'a.intent' }, label: 'first declared here' }] });
  });

  it('duplicate fixed-IP pods and NetworkPolicies are keyed by namespace/name', () => {
    expect(diagnosticsOf('fixed-ip ns/a 10.0.0.1\nfixed-ip ns/a 10.0.0.2\nnetworkpolicy ns/p { select all }\nnetworkpolicy ns/p { select all }\nnetworkpolicy other/p { select all }\n')).toEqual([
      'NI2002 f0.intent:2:13 Duplicate fixed-ip pod "ns/a".',
      'NI2002 f0.intent:4:18 Duplicate NetworkPolicy "ns/p".',
    ]);
  });

  it('nested group cycles', () => {
    expect(diagnosticsOf('group a { group b }\ngroup b { group a }\n')).toEqual([expect.stringMatching(/^NI2003 f0.intent:\d+:\d+ Group "a" includes itself through a -> b -> a\./)]);
  });

  it('a namespace owned by two tenants', () => {
    expect(diagnosticsOf('tenant a { namespaces x }\ntenant b { namespaces y, x }\n')).toEqual(['NI2004 f0.intent:2:26 Namespace "x" is claimed by tenant "a" and tenant "b".']);
  });

  it('unknown tenant and cluster in scopes', () => {
    expect(diagnosticsOf('group g { pods app = x in tenant nope }\ngroup h { pods all in cluster mars }\n')).toEqual([
      'NI2001 f0.intent:1:34 Unknown tenant "nope".',
      'NI2001 f0.intent:2:31 Unknown cluster "mars".',
    ]);
  });

  it('egress gateways and rate limits need pod groups', () => {
    expect(diagnosticsOf('group ext { cidr 10.0.0.0/8 }\nrate r { pods ext ingress 10M }\n')).toEqual([
      'NI2005 f0.intent:2:15 rate limit "r" expects a group of pods, but group "ext" contains non-pod members.',
    ]);
  });
});

describe('check: addresses and pools', () => {
  it('bad CIDRs, host bits, except outside the block', () => {
    expect(diagnosticsOf('group g {\n  cidr 10.0.0.0/33\n  cidr 10.1.2.3/16 except 10.2.0.0/24\n}\n')).toEqual([
      'NI3001 f0.intent:2:8 Invalid CIDR "10.0.0.0/33": prefix length 33 exceeds 32.',
      'NI3009 f0.intent:3:8 CIDR 10.1.2.3/16 has host bits set; it means 10.1.0.0/16.',
      'NI3003 f0.intent:3:27 Except block 10.2.0.0/24 is not inside 10.1.0.0/16.',
    ]);
  });

  it('a loose or bad tenant pool is reported once, not once per address family', () => {
    expect(diagnosticsOf('tenant t {\n  namespaces ns\n  pool 10.0.0.5/24, 10.0.0.0/40\n}\n')).toEqual([
      'NI3009 f0.intent:3:8 CIDR 10.0.0.5/24 has host bits set; it means 10.0.0.0/24.',
      'NI3001 f0.intent:3:21 Invalid CIDR "10.0.0.0/40": prefix length 40 exceeds 32.',
    ]);
  });

  it('fixed IP outside the tenant pools, and the same IP twice', () => {
    const text = 'tenant t {\n  namespaces ns\n  pool 10.0.0.0/24\n}\nfixed-ip ns/a 10.9.0.1\nfixed-ip ns/b 10.0.0.7\nfixed-ip ns/c 10.0.0.7\n';
    expect(diagnosticsOf(text)).toEqual([
      'NI3004 f0.intent:5:15 IP 10.9.0.1 is outside the pools of tenant "t".',
      'NI3005 f0.intent:7:15 IP 10.0.0.7 is claimed twice: by pod ns/c and by pod ns/b.',
    ]);
  });

  it('overlapping pools across tenants and files; fixed IP inside a workload pool', () => {
    const out = diagnosticsOf(
      'tenant a { namespaces na pool 10.0.0.0/24 }\npool web deployment na/web 10.0.0.10-10.0.0.20\n',
      'tenant b { namespaces nb pool 10.0.0.128/25 }\nfixed-ip na/x 10.0.0.15\n',
    );
    expect(out).toEqual([
      'NI3006 f1.intent:1:31 Pool "b" overlaps pool "a" (10.0.0.128/25 and 10.0.0.0/24).',
      'NI3005 f1.intent:2:15 IP 10.0.0.15 is claimed twice: by pod na/x and by pool "web".',
    ]);
  });

  it('bad ranges and mixed families', () => {
    expect(diagnosticsOf('pool p deployment n/w 10.0.0.9-10.0.0.1\npool q deployment n/v 10.0.1.1, fd00::1\n')).toEqual([
      'NI3007 f0.intent:1:23 Invalid address range 10.0.0.9-10.0.0.1: the first address is after the last.',
      'NI3007 f0.intent:2:33 Invalid address range fd00::1-: pool "q" mixes IPv4 and IPv6; declare one pool per family.',
    ]);
  });

  it('pool sizes leave out the network and broadcast addresses and reserved IPs', () => {
    const r = compileTexts([{ path: 'p.intent', text: 'pool p statefulset n/db 10.0.0.0/29 reserve 10.0.0.1\n' }]);
    expect(r.ir!.pools[0]).toMatchObject({ ranges: [{ first: '10.0.0.1', last: '10.0.0.6' }], size: 5, workload: { kind: 'StatefulSet', namespace: 'n', name: 'db' } });
  });
});

describe('check: rules', () => {
  it('ports out of range, reversed ranges, ICMP codes', () => {
    expect(diagnosticsOf('policy p {\n  allow any -> any on tcp/70000, tcp/90-80, icmp type 300\n}\n')).toEqual([
      expect.stringMatching(/^NI4001 f0.intent:2:\d+ Invalid port 70000: out of range\./),
      expect.stringMatching(/^NI4001 f0.intent:2:\d+ Invalid port 90-80: the range ends before it starts\./),
      expect.stringMatching(/^NI4006 f0.intent:2:\d+ ICMP type\/code 300 is out of range\./),
    ]);
  });

  it('warns about ICMP types that never open a connection (replies, errors), not about requests or neighbour discovery', () => {
    expect(diagnosticsOf('policy p {\n  allow any -> any on icmp type 0, icmp type 3 code 1, icmp type 8, icmpv6 type 129, icmpv6 type 128, icmpv6 type 135\n}\n')).toEqual([
      expect.stringMatching(/^NI4012 f0.intent:2:33 icmp type 0 never opens a connection: .* so this never matches\./),
      expect.stringMatching(/^NI4012 f0.intent:2:\d+ icmp type 3 never opens a connection/),
      expect.stringMatching(/^NI4012 f0.intent:2:\d+ icmpv6 type 129 never opens a connection/),
    ]);
  });

  it('L7 clauses need TCP; regexes are checked', () => {
    expect(diagnosticsOf('policy p {\n  allow any -> any on udp/80 http { GET "/(" }\n}\n')).toEqual([
      expect.stringMatching(/^NI4002 f0.intent:2:\d+ L7 HTTP rules need TCP, but this rule allows udp\./),
      expect.stringMatching(/^NI4007 f0.intent:2:\d+ Invalid regular expression "\/\(": /),
    ]);
  });

  it('a rule shadowed by an earlier rule of the same tier is a warning', () => {
    const r = compileTexts([{ path: 's.intent', text: 'group a { cidr 10.0.0.0/8 }\npolicy p {\n  deny any -> a\n  allow a -> a on tcp/80\n}\npolicy q tier baseline {\n  allow a -> a on tcp/80\n}\n' }]);
    expect(r.ir).toBeDefined();
    expect(r.diagnostics.map((d) => `${d.code} ${d.severity} ${d.span!.start.line} ${d.message}`)).toEqual(['NI4003 warning 4 Rule is shadowed by p/0 (deny): it can never match.']);
  });

  it('rates above the tenant cap', () => {
    expect(diagnosticsOf('tenant t { namespaces ns cap ingress 10M }\ngroup g { pods all in namespace ns }\nrate r { pods g ingress 20M }\n')).toEqual([
      'NI4011 f0.intent:3:25 Rate 20M exceeds the cap 10M of tenant "t".',
    ]);
  });

  it('priorities are 0-65535', () => {
    expect(diagnosticsOf('policy p priority 70000 { allow any -> any }\n')).toEqual(['NI4008 f0.intent:1:19 Invalid priority 70000.']);
  });

  it('all errors of all files in one run, in source order, syntax and semantic alike', () => {
    const out = diagnosticsOf('policy p { allow x -> y }\n', 'group g { cidr bad/8 }\npolicy q { allow z -> any }\n');
    expect(out.map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['NI2001 f0.intent:1:18', 'NI2001 f0.intent:1:23', 'NI1001 f1.intent:1:16', 'NI2001 f1.intent:2:18']);
  });
});

describe('check: lowering', () => {
  it('tiers, priorities and rule order give the evaluation order; isolation rules follow the tenant mode', () => {
    const r = compileTexts([
      {
        path: 'o.intent',
        text: 'tenant s { namespaces a isolation strict }\ntenant d { namespaces b }\npolicy z tier baseline { deny any -> any }\npolicy y tier admin priority 5 { allow any -> any on tcp/22 }\npolicy x { allow any -> any on tcp/80 }\n',
      },
    ]);
    expect(r.ir!.rules.map((x) => `${x.tier}:${x.priority}:${x.id}`)).toEqual([
      'admin:5:rule:y/0',
      'admin:1000:rule:~isolation-s/0',
      'admin:1000:rule:~isolation-s/1',
      'application:1000:rule:x/0',
      'baseline:1000:rule:z/0',
      'baseline:1000:rule:~isolation-d/0',
      'baseline:1000:rule:~isolation-d/1',
    ]);
  });

  it('selectors: != is NotIn, matchLabels and = agree, duplicates dropped, sorted', () => {
    const r = compileTexts([{ path: 's.intent', text: 'group g { pods b != x, a = y, a = y, c in (q, p), d, !e }\n' }]);
    expect(r.ir!.groups[0]!.members[0]).toEqual({
      kind: 'pods',
      scope: { kind: 'all' },
      selector: [
        { key: 'a', op: 'In', values: ['y'] },
        { key: 'b', op: 'NotIn', values: ['x'] },
        { key: 'c', op: 'In', values: ['p', 'q'] },
        { key: 'd', op: 'Exists', values: [] },
        { key: 'e', op: 'DoesNotExist', values: [] },
      ],
    });
  });

  it('inline peers become content-named groups shared by equal members', () => {
    const r = compileTexts([{ path: 'i.intent', text: 'policy p {\n  allow cidr 10.0.0.0/8 -> any\n  deny cidr 10.0.0.0/8 -> cidr 10.1.0.0/16\n}\n' }]);
    const [a, b] = r.ir!.rules;
    expect(a!.from).toEqual(b!.from);
    expect(a!.from[0]).toMatch(/^group:~[0-9a-f]{10}$/);
    expect(r.ir!.sources[a!.from[0]!]).toHaveLength(2);
  });

  it('the IR does not depend on file order or file split (property)', () => {
    const statements = [
      'tenant t { namespaces a, b isolation strict pool 10.0.0.0/24 }',
      'group web { pods app = web in tenant t }',
      'group db { pods app = db in namespace a }',
      'policy p tier application priority 10 { allow web -> db on tcp/5432 log }',
      'policy q tier baseline { deny any -> db }',
      'fixed-ip a/legacy 10.0.0.5',
      'pool sts statefulset a/db 10.0.0.16/29',
      'rate r { pods web ingress 10M }',
    ];
    const reference = compileTexts([{ path: 'all.intent', text: statements.join('\n') }]);
    expect(reference.ir).toBeDefined();
    fc.assert(
      fc.property(fc.shuffledSubarray(statements, { minLength: statements.length, maxLength: statements.length }), fc.integer({ min: 1, max: 4 }), (order, nFiles) => {
        const files = Array.from({ length: nFiles }, (_, i) => ({ path: `part${i}.intent`, text: order.filter((_, j) => j % nFiles === i).join('\n') }));
        const r = compileTexts([...files].reverse());
        const strip = (ir: typeof r.ir): unknown => ({ ...ir, sources: undefined });
        return canonicalJson(strip(r.ir)) === canonicalJson(strip(reference.ir));
      }),
      { numRuns: 50 },
    );
  });
});

describe('check: what no backend can enforce', () => {
  it('FQDN peers as sources, also through nested groups', () => {
    expect(diagnosticsOf('group ext { fqdn "*.example.com" }\ngroup outer { group ext }\npolicy p {\n  allow outer -> any\n  allow any -> ext\n}\n')).toEqual([
      'NI5010 f0.intent:4:9 FQDN peer "*.example.com" is used as a source; no backend can enforce that.',
    ]);
  });

  it('L7 clauses on deny rules', () => {
    expect(diagnosticsOf('policy p {\n  deny any -> any on tcp/80 http { GET "/x" }\n}\n')).toEqual([expect.stringMatching(/^NI5011 f0.intent:2:\d+ L7 clause on a deny rule/)]);
  });
});
