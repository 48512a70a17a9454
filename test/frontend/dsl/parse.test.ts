import { describe, expect, test } from 'vitest';
import type * as A from '../../../src/ast/index.js';
import { parseDsl } from '../../../src/frontend/dsl/index.js';
import { at, withoutSpans } from './helpers.js';

/** Parses `text`, expects no diagnostics, returns the declarations without spans. */
function decls(text: string): A.Decl[] {
  const r = parseDsl('t.intent', text);
  expect(r.diagnostics).toEqual([]);
  return withoutSpans(r.source.decls);
}

function only<K extends A.Decl['kind']>(text: string, kind: K): Extract<A.Decl, { kind: K }> {
  const ds = decls(text);
  expect(ds).toHaveLength(1);
  expect(ds[0]!.kind).toBe(kind);
  return ds[0] as Extract<A.Decl, { kind: K }>;
}

const t = (value: string): { value: string } => ({ value });

describe('selectors', () => {
  const sel = (s: string): A.Selector => {
    const g = only(`group g { pods ${s} }`, 'group');
    return (g.members[0] as Extract<A.GroupMember, { kind: 'pods' }>).selector;
  };
  test('all operators', () => {
    expect(sel('all')).toEqual({ terms: [] });
    expect(sel('a = b, c != d, e in (f, g), h notin (i), j, !k').terms).toEqual([
      { key: t('a'), op: 'eq', values: [t('b')] },
      { key: t('c'), op: 'neq', values: [t('d')] },
      { key: t('e'), op: 'in', values: [t('f'), t('g')] },
      { key: t('h'), op: 'notin', values: [t('i')] },
      { key: t('j'), op: 'exists', values: [] },
      { key: t('k'), op: 'notexists', values: [] },
    ]);
  });
  test('prefixed keys, quoted keywords, contextual keywords as keys', () => {
    expect(sel('app.kubernetes.io/name = web, "in" = "all", tier = x').terms.map((x) => [x.key.value, x.values[0]!.value])).toEqual([
      ['app.kubernetes.io/name', 'web'],
      ['in', 'all'],
      ['tier', 'x'],
    ]);
  });
});

describe('group members and namespace scopes', () => {
  test('every member kind', () => {
    const g = only(
      `group web {
        pods app = web in namespace a
        pods app = api in namespaces a, b in cluster east on network storage
        pods role = db in namespaces where env = prod
        pods all in namespaces all
        pods x in tenant acme
        cidr 10.0.0.0/8 except 10.1.0.0/16, 10.2.0.0/16
        fqdn "*.example.com"
        service shop/api in cluster east
        group other
      }`,
      'group',
    );
    expect(g.name).toEqual(t('web'));
    expect(g.members).toEqual([
      { kind: 'pods', selector: { terms: [{ key: t('app'), op: 'eq', values: [t('web')] }] }, scope: { kind: 'names', names: [t('a')] } },
      {
        kind: 'pods',
        selector: { terms: [{ key: t('app'), op: 'eq', values: [t('api')] }] },
        scope: { kind: 'names', names: [t('a'), t('b')] },
        cluster: t('east'),
        network: t('storage'),
      },
      {
        kind: 'pods',
        selector: { terms: [{ key: t('role'), op: 'eq', values: [t('db')] }] },
        scope: { kind: 'selector', selector: { terms: [{ key: t('env'), op: 'eq', values: [t('prod')] }] } },
      },
      { kind: 'pods', selector: { terms: [] }, scope: { kind: 'selector', selector: { terms: [] } } },
      { kind: 'pods', selector: { terms: [{ key: t('x'), op: 'exists', values: [] }] }, scope: { kind: 'tenant', tenant: t('acme') } },
      { kind: 'cidr', cidr: t('10.0.0.0/8'), except: [t('10.1.0.0/16'), t('10.2.0.0/16')] },
      { kind: 'fqdn', pattern: t('*.example.com') },
      { kind: 'service', namespace: t('shop'), name: t('api'), cluster: t('east') },
      { kind: 'group', name: t('other') },
    ]);
  });
});

describe('policies and rules', () => {
  test('defaults: tier application, priority 1000', () => {
    const p = only('policy p { }', 'policy');
    expect(p).toEqual({ kind: 'policy', name: t('p'), tier: 'application', priority: { value: 1000 }, rules: [] });
  });
  test('tier and priority; `tier tenant` is not a tenant statement', () => {
    const p = only('policy p tier tenant priority 7 { pass any -> any }', 'policy');
    expect([p.tier, p.priority.value, p.rules[0]!.action]).toEqual(['tenant', 7, 'pass']);
  });
  test('peers joined by or, inline members, ports, flags', () => {
    const p = only(
      `policy p {
        allow web or pods app = x in namespace n or cidr 10.0.0.0/8 -> any on tcp/80, tcp/8000-8080, tcp/http, udp, icmp type 8 code 0, icmpv6 type 128 log
        deny a -> b
      }`,
      'policy',
    );
    const [r1, r2] = p.rules;
    expect(r1!.from.map((x) => x.kind)).toEqual(['group', 'inline', 'inline']);
    expect(r1!.to).toEqual([{ kind: 'any' }]);
    expect(r1!.ports).toEqual([
      { protocol: 'tcp', port: { value: 80 } },
      { protocol: 'tcp', port: { value: 8000 }, endPort: { value: 8080 } },
      { protocol: 'tcp', name: t('http') },
      { protocol: 'udp' },
      { protocol: 'icmp', icmpType: { value: 8 }, icmpCode: { value: 0 } },
      { protocol: 'icmpv6', icmpType: { value: 128 } },
    ]);
    expect([r1!.log, r1!.l4Only, r1!.l7]).toEqual([true, false, undefined]);
    expect(r2).toEqual({ action: 'deny', from: [{ kind: 'group', name: t('a') }], to: [{ kind: 'group', name: t('b') }], ports: [], log: false, l4Only: false });
  });
  test('port numbers are kept even when out of range (the checker reports them)', () => {
    expect(only('policy p { allow a -> b on tcp/70000 }', 'policy').rules[0]!.ports[0]!.port!.value).toBe(70000);
  });
  test('L7 clauses: http, kafka, dns; l4-only', () => {
    const p = only(
      `policy p {
        allow a -> b on tcp/80 http { GET "/x" host "h" header "X" header "Y" = "v" * } kafka { produce topic "t" * api-key "fetch" client-id "c" } l4-only
        allow a -> dns on udp/53 dns { pattern "*" name "x.com" }
      }`,
      'policy',
    );
    expect(p.rules[0]!.l7).toEqual({
      http: [
        { method: t('GET'), path: t('/x'), host: t('h'), headers: [{ name: t('X') }, { name: t('Y'), value: t('v') }] },
        { headers: [] },
      ],
      kafka: [{ role: t('produce'), topic: t('t') }, { apiKey: t('fetch'), clientId: t('c') }],
      dns: [],
    });
    expect(p.rules[0]!.l4Only).toBe(true);
    expect(p.rules[1]!.l7!.dns).toEqual([{ matchPattern: t('*') }, { matchName: t('x.com') }]);
  });
  test('a group named like an L7 keyword', () => {
    const p = only('policy p { allow app -> kafka on tcp/9092 kafka { produce } }', 'policy');
    expect(p.rules[0]!.to).toEqual([{ kind: 'group', name: t('kafka') }]);
  });
});

describe('tenants, clusters, addresses', () => {
  test('tenant defaults', () => {
    expect(only('tenant t { }', 'tenant')).toEqual({
      kind: 'tenant',
      name: t('t'),
      namespaces: { kind: 'names', names: [] },
      isolation: 'default',
      pools: [],
      networks: [],
      allowHostAccess: false,
    });
  });
  test('tenant items', () => {
    const x = only(
      'tenant acme { namespaces where team = acme isolation strict pool 10.0.0.0/24, 10.0.1.10-10.0.1.50, 10.0.2.1 cap ingress 100M egress 1.5Gbit networks n1, n2 allow host-access }',
      'tenant',
    );
    expect(x.namespaces).toEqual({ kind: 'selector', selector: { terms: [{ key: t('team'), op: 'eq', values: [t('acme')] }] } });
    expect(x.isolation).toBe('strict');
    expect(x.pools).toEqual([
      { text: '10.0.0.0/24', kind: 'cidr' },
      { text: '10.0.1.10-10.0.1.50', kind: 'range' },
      { text: '10.0.2.1', kind: 'ip' },
    ]);
    expect([x.ingressCap, x.egressCap]).toEqual([
      { bps: 100e6, text: '100M' },
      { bps: 1.5e9, text: '1.5Gbit' },
    ]);
    expect([x.networks, x.allowHostAccess]).toEqual([[t('n1'), t('n2')], true]);
  });
  test('cluster, fixed-ip, pool', () => {
    expect(decls('cluster c { pods 10.1.0.0/16, fd00::/56 services 10.96.0.0/12 } fixed-ip ns/pod 10.0.0.5, fd00::5 pool p statefulset ns/db 10.0.0.0/29 reserve 10.0.0.1')).toEqual([
      { kind: 'cluster', name: t('c'), podCidrs: [t('10.1.0.0/16'), t('fd00::/56')], serviceCidrs: [t('10.96.0.0/12')] },
      { kind: 'fixed-ip', namespace: t('ns'), pod: t('pod'), ips: [t('10.0.0.5'), t('fd00::5')] },
      {
        kind: 'pool',
        name: t('p'),
        workload: { kind: 'StatefulSet', namespace: t('ns'), name: t('db') },
        ranges: [{ text: '10.0.0.0/29', kind: 'cidr' }],
        reserved: [t('10.0.0.1')],
      },
    ]);
  });
});

describe('egress gateways and rates', () => {
  test('egress-gateway', () => {
    expect(only('egress-gateway g { pods web to 0.0.0.0/0 except 10.0.0.0/8 nodes where role = egress nodes n1, n2 egress-ip 1.2.3.4 }', 'egress-gateway')).toEqual({
      kind: 'egress-gateway',
      name: t('g'),
      pods: [{ kind: 'group', name: t('web') }],
      destinations: [t('0.0.0.0/0')],
      except: [t('10.0.0.0/8')],
      nodeSelector: { terms: [{ key: t('role'), op: 'eq', values: [t('egress')] }] },
      nodes: [t('n1'), t('n2')],
      egressIps: [t('1.2.3.4')],
    });
  });
  test('rates in bit/s, durations in µs, loss in percent', () => {
    const r = only('rate r { pods web ingress 500k egress 2Mbit latency 50ms jitter 250us loss 0.5% }', 'rate');
    expect([r.ingress, r.egress, r.latency, r.jitter, r.loss]).toEqual([
      { bps: 500e3, text: '500k' },
      { bps: 2e6, text: '2Mbit' },
      { us: 50_000, text: '50ms' },
      { us: 250, text: '250us' },
      { value: 0.5, text: '0.5%' },
    ]);
    for (const [text, bps] of [['1G', 1e9], ['3Gbps', 3e9], ['7kbit', 7e3], ['64bps', 64], ['2s', undefined]] as const) {
      const res = parseDsl('r.intent', `rate r { ingress ${text} }`);
      const decl = res.source.decls[0] as A.RateLimitDecl;
      if (bps === undefined) expect(res.diagnostics.map((d) => d.code)).toEqual(['NI4004']);
      else expect(decl.ingress!.bps).toBe(bps);
    }
  });
  test('unknown units are NI4004 / NI4005 at the value', () => {
    const r = parseDsl('r.intent', 'rate r {\n  ingress 10X\n  latency 5h\n  loss 3\n}');
    expect(r.diagnostics.map((d) => [d.code, d.message, at(d.span)])).toEqual([
      ['NI4004', 'Invalid rate "10X": unknown unit "X" (use k, M, G, kbit, Mbit, Gbit or bps).', [2, 11]],
      ['NI4005', 'Invalid duration "5h": unknown unit "h" (use us, ms or s).', [3, 11]],
      ['NI4005', 'Invalid loss "3": expected a percentage such as 1%.', [4, 8]],
    ]);
  });
});

describe('networkpolicy', () => {
  test('types default to Ingress, plus Egress with egress rules', () => {
    expect(only('networkpolicy ns/a { }', 'networkpolicy').policyTypes).toEqual(['Ingress']);
    expect(only('networkpolicy ns/a { egress }', 'networkpolicy').policyTypes).toEqual(['Ingress', 'Egress']);
    expect(only('networkpolicy ns/a { types egress }', 'networkpolicy').policyTypes).toEqual(['Egress']);
  });
  test('peers and ports', () => {
    const np = only(
      `networkpolicy prod/allow-web {
        select app = db
        ingress from pods role = frontend or pods all in namespaces where project = x or namespaces all or cidr 172.17.0.0/16 except 172.17.1.0/24 on tcp/6379
        ingress from any on tcp/80
        egress to cidr 10.0.0.0/24
      }`,
      'networkpolicy',
    );
    expect([np.namespace, np.name, np.podSelector]).toEqual([t('prod'), t('allow-web'), { terms: [{ key: t('app'), op: 'eq', values: [t('db')] }] }]);
    expect(np.ingress).toEqual([
      {
        peers: [
          { kind: 'pods', podSelector: { terms: [{ key: t('role'), op: 'eq', values: [t('frontend')] }] } },
          { kind: 'pods', podSelector: { terms: [] }, namespaceSelector: { terms: [{ key: t('project'), op: 'eq', values: [t('x')] }] } },
          { kind: 'pods', namespaceSelector: { terms: [] } },
          { kind: 'ipBlock', cidr: t('172.17.0.0/16'), except: [t('172.17.1.0/24')] },
        ],
        ports: [{ protocol: 'tcp', port: { value: 6379 } }],
      },
      { peers: [], ports: [{ protocol: 'tcp', port: { value: 80 } }] },
    ]);
    expect(np.egress).toEqual([{ peers: [{ kind: 'ipBlock', cidr: t('10.0.0.0/24'), except: [] }], ports: [] }]);
    expect(np.policyTypes).toEqual(['Ingress', 'Egress']);
  });
});

describe('let and include', () => {
  test('named values are substituted, typed, and may be used before their definition', () => {
    const r = parseDsl('l.intent', 'group g { cidr $net }\nlet net = 10.0.0.0/8\nlet p = 443\npolicy x priority $p { allow g -> g on tcp/$p }');
    expect(r.diagnostics).toEqual([]);
    const [g, p] = withoutSpans(r.source.decls) as [A.GroupDecl, A.PolicyDecl];
    expect(g.members[0]).toEqual({ kind: 'cidr', cidr: t('10.0.0.0/8'), except: [] });
    expect(p.priority).toEqual({ value: 443 });
    expect(p.rules[0]!.ports).toEqual([{ protocol: 'tcp', port: { value: 443 } }]);
  });
  test('unknown, duplicate and mistyped named values', () => {
    const r = parseDsl('l.intent', 'let a = 10M\nlet a = 1\ngroup g { cidr $a cidr $nope }');
    expect(r.diagnostics.map((d) => [d.code, d.message, at(d.span)])).toEqual([
      ['NI1007', 'Named value "a" is defined twice.', [2, 5]],
      ['NI1010', 'Named value "a" is a rate, but a network address is expected here.', [3, 16]],
      ['NI1006', 'Unknown named value "nope".', [3, 24]],
    ]);
  });
  test('includes are returned with their spans', () => {
    const r = parseDsl('dir/main.intent', 'include "common.intent"\ninclude other.intent');
    expect(r.includes.map((i) => [i.path, i.span.file, at(i.span)])).toEqual([
      ['common.intent', 'dir/main.intent', [1, 1]],
      ['other.intent', 'dir/main.intent', [2, 1]],
    ]);
  });
});

describe('spans', () => {
  const text = 'group web {\n  pods app = web in namespace acme-prod\n}\npolicy p {\n  allow web -> db on tcp/8000-8080\n}\n';
  const r = parseDsl('s.intent', text);
  const [g, p] = r.source.decls as [A.GroupDecl, A.PolicyDecl];
  test('declarations, names and members', () => {
    expect(g.span).toMatchObject({ file: 's.intent', start: { line: 1, col: 1, offset: 0 }, end: { line: 3, col: 2 } });
    expect(at(g.name.span)).toEqual([1, 7]);
    const pods = g.members[0] as Extract<A.GroupMember, { kind: 'pods' }>;
    expect(at(pods.span)).toEqual([2, 3]);
    expect(at(pods.selector.terms[0]!.values[0]!.span)).toEqual([2, 14]);
    expect(at((pods.scope as Extract<A.NamespaceScope, { kind: 'names' }>).names[0]!.span)).toEqual([2, 31]);
  });
  test('rules and the parts of a port token', () => {
    const rule = p.rules[0]!;
    expect(at(rule.span)).toEqual([5, 3]);
    expect(rule.span.end).toMatchObject({ line: 5, col: 35 });
    expect(at(rule.to[0]!.span)).toEqual([5, 16]);
    const port = rule.ports[0]!;
    expect([at(port.span), at(port.port!.span), at(port.endPort!.span)]).toEqual([[5, 22], [5, 26], [5, 31]]);
  });
  test('every span lies inside the file and starts before it ends', () => {
    for (const d of r.source.decls) expect(d.span.end.offset).toBeLessThanOrEqual(text.length);
  });
});
