import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { GroupDecl, PolicyDecl, RateLimitDecl, TenantDecl } from '../../../src/ast/index.js';
import { intentSet, parse, where, withoutSpans } from './helpers.js';

const fullText = readFileSync(new URL('./fixtures/full.yaml', import.meta.url), 'utf8');

describe('full fixture (twin of docs/dsl.md)', () => {
  const { decls, diagnostics, formats } = parse(fullText, 'full.yaml');

  test('parses without diagnostics into both formats', () => {
    expect(diagnostics).toEqual([]);
    expect(formats).toEqual(['yaml', 'netpol']);
    expect(decls.map((d) => d.kind)).toEqual([
      'cluster', 'tenant', 'group', 'policy', 'fixed-ip', 'fixed-ip', 'pool', 'pool', 'egress-gateway', 'rate', 'networkpolicy',
    ]);
  });

  test('tenant', () => {
    const tenant = decls.find((d): d is TenantDecl => d.kind === 'tenant')!;
    expect(withoutSpans(tenant)).toEqual({
      kind: 'tenant',
      name: { value: 'acme' },
      namespaces: { kind: 'names', names: [{ value: 'acme-prod' }, { value: 'acme-dev' }] },
      isolation: 'strict',
      pools: [{ text: '10.10.0.0/24', kind: 'cidr' }, { text: '10.10.1.10-10.10.1.50', kind: 'range' }],
      ingressCap: { bps: 100_000_000, text: '100M' },
      egressCap: { bps: 50_000_000, text: '50M' },
      networks: [{ value: 'storage-net' }],
      allowHostAccess: true,
    });
    expect(tenant.name.span.start).toMatchObject({ line: 14, col: 13 });
  });

  test('group members of every kind', () => {
    const group = decls.find((d): d is GroupDecl => d.kind === 'group')!;
    const members = withoutSpans(group.members);
    expect(members.map((m) => m.kind)).toEqual(['pods', 'pods', 'pods', 'pods', 'pods', 'cidr', 'fqdn', 'service', 'service', 'group']);
    expect(members[0]).toEqual({
      kind: 'pods',
      selector: {
        terms: [
          { key: { value: 'app' }, op: 'eq', values: [{ value: 'web' }] },
          { key: { value: 'tier' }, op: 'in', values: [{ value: 'frontend' }, { value: 'edge' }] },
          { key: { value: 'legacy' }, op: 'notexists', values: [] },
        ],
      },
      scope: { kind: 'names', names: [{ value: 'acme-prod' }] },
    });
    expect(members[1]).toMatchObject({ scope: { kind: 'tenant', tenant: { value: 'acme' } } });
    expect(members[2]).toMatchObject({ scope: { kind: 'selector', selector: { terms: [{ key: { value: 'env' }, op: 'eq' }] } } });
    expect(members[3]).toMatchObject({ cluster: { value: 'east' } });
    expect(members[4]).toMatchObject({ network: { value: 'storage-net' } });
    expect(members[5]).toEqual({ kind: 'cidr', cidr: { value: '192.168.0.0/16' }, except: [{ value: '192.168.1.0/24' }, { value: '192.168.2.0/24' }] });
    expect(members[6]).toEqual({ kind: 'fqdn', pattern: { value: '*.foobar.com' } });
    expect(members[8]).toEqual({ kind: 'service', namespace: { value: 'shop' }, name: { value: 'api' }, cluster: { value: 'east' } });
    expect(members[9]).toEqual({ kind: 'group', name: { value: 'other-group' } });
  });

  test('policy rules: peers, ports, log, L7', () => {
    const policy = decls.find((d): d is PolicyDecl => d.kind === 'policy')!;
    expect(policy.tier).toBe('application');
    expect(policy.priority.value).toBe(100);
    const rules = withoutSpans(policy.rules);
    expect(rules.map((r) => r.action)).toEqual(['allow', 'allow', 'deny', 'reject', 'pass', 'allow', 'allow', 'allow']);
    expect(rules[0]!.ports).toEqual([
      { protocol: 'tcp', port: { value: 3306 } },
      { protocol: 'tcp', port: { value: 8000 }, endPort: { value: 8080 } },
    ]);
    expect(rules[0]!.log).toBe(true);
    expect(rules[1]!.from).toEqual([{ kind: 'group', name: { value: 'web' } }, { kind: 'group', name: { value: 'api' } }]);
    expect(rules[1]!.to).toEqual([{ kind: 'inline', member: { kind: 'cidr', cidr: { value: '172.17.0.0/16' }, except: [{ value: '172.17.1.0/24' }] } }]);
    expect(rules[2]!.from).toEqual([{ kind: 'any' }]);
    expect(rules[2]!.ports).toEqual([]);
    expect(rules[3]!.ports).toEqual([{ protocol: 'icmp', icmpType: { value: 8 } }]);
    expect(rules[5]!.l7!.http).toEqual([
      { method: { value: 'POST' }, path: { value: '/v1/request-landing' }, headers: [] },
      { method: { value: 'GET' }, path: { value: '/v1/.*' }, host: { value: 'deathstar.local' }, headers: [{ name: { value: 'X-Token' }, value: { value: 'abc' } }] },
      { path: { value: '/healthz' }, headers: [] },
    ]);
    expect(rules[6]!.l7!.kafka).toEqual([{ role: { value: 'produce' }, topic: { value: 'empire-announce' } }]);
    expect(rules[6]!.l4Only).toBe(true);
    expect(rules[7]!.l7!.dns).toEqual([{ matchPattern: { value: '*' } }, { matchName: { value: 'my-remote-service.com' } }]);
    expect(rules[0]!.l7).toBeUndefined();
  });

  test('IP management, gateway and rate limit', () => {
    const plain = withoutSpans(decls);
    expect(plain).toContainEqual({ kind: 'fixed-ip', namespace: { value: 'acme-prod' }, pod: { value: 'dual' }, ips: [{ value: '10.10.0.6' }, { value: 'fd00:10::6' }] });
    expect(plain).toContainEqual({
      kind: 'pool',
      name: { value: 'web-pool' },
      workload: { kind: 'Deployment', namespace: { value: 'acme-prod' }, name: { value: 'web' } },
      ranges: [{ text: '10.10.0.10-10.10.0.20', kind: 'range' }, { text: '10.10.0.30', kind: 'ip' }],
      reserved: [{ value: '10.10.0.15' }],
    });
    expect(plain).toContainEqual({
      kind: 'egress-gateway',
      name: { value: 'audit' },
      pods: [{ kind: 'group', name: { value: 'web' } }],
      destinations: [{ value: '0.0.0.0/0' }],
      except: [{ value: '10.0.0.0/8' }],
      nodeSelector: { terms: [{ key: { value: 'role' }, op: 'eq', values: [{ value: 'egress' }] }] },
      nodes: [{ value: 'gw-1' }, { value: 'gw-2' }],
      egressIps: [{ value: '192.168.100.10' }],
    });
    const rate = decls.find((d): d is RateLimitDecl => d.kind === 'rate')!;
    expect(withoutSpans(rate)).toMatchObject({
      ingress: { bps: 10_000_000 },
      egress: { bps: 20_000_000 },
      latency: { us: 50_000, text: '50ms' },
      jitter: { us: 5_000 },
      loss: { value: 1, text: '1%' },
    });
  });
});

describe('constructs', () => {
  test('defaults: tier application, priority 1000, isolation default', () => {
    const { decls, diagnostics } = parse(intentSet(`  tenants:
    - name: t
      namespaceSelector: {matchLabels: {team: t}}
  policies:
    - name: p
      rules: [{action: allow, from: any, to: any}]
`));
    expect(diagnostics).toEqual([]);
    expect(withoutSpans(decls)).toEqual([
      {
        kind: 'tenant', name: { value: 't' }, isolation: 'default', pools: [], networks: [], allowHostAccess: false,
        namespaces: { kind: 'selector', selector: { terms: [{ key: { value: 'team' }, op: 'eq', values: [{ value: 't' }] }] } },
      },
      {
        kind: 'policy', name: { value: 'p' }, tier: 'application', priority: { value: 1000 },
        rules: [{ action: 'allow', from: [{ kind: 'any' }], to: [{ kind: 'any' }], ports: [], log: false, l4Only: false }],
      },
    ]);
  });

  test('selector operators and the empty selector', () => {
    const { decls, diagnostics } = parse(intentSet(`  groups:
    - name: g
      members:
        - pods:
            matchExpressions:
              - {key: a, operator: NotIn, values: [x]}
              - {key: b, operator: Exists}
        - pods: {}
`));
    expect(diagnostics).toEqual([]);
    const group = withoutSpans(decls[0]) as GroupDecl;
    expect(group.members).toEqual([
      { kind: 'pods', selector: { terms: [{ key: { value: 'a' }, op: 'notin', values: [{ value: 'x' }] }, { key: { value: 'b' }, op: 'exists', values: [] }] } },
      { kind: 'pods', selector: { terms: [] } },
    ]);
  });

  test('port strings and objects', () => {
    const { decls, diagnostics } = parse(intentSet(`  policies:
    - name: p
      rules:
        - action: allow
          from: any
          to: [{pods: {matchLabels: {app: db}}}, {fqdn: example.com}]
          ports:
            - tcp/http
            - udp
            - sctp/9000
            - icmp
            - icmp type 3 code 1
            - icmpv6 type 128
            - {port: 53}
            - {protocol: UDP, port: 1000, endPort: 2000}
            - {protocol: tcp, name: metrics}
            - {protocol: icmp, icmpType: 0, icmpCode: 0}
`));
    expect(diagnostics).toEqual([]);
    const rule = withoutSpans((decls[0] as PolicyDecl).rules[0]!);
    expect(rule.to).toEqual([
      { kind: 'inline', member: { kind: 'pods', selector: { terms: [{ key: { value: 'app' }, op: 'eq', values: [{ value: 'db' }] }] } } },
      { kind: 'inline', member: { kind: 'fqdn', pattern: { value: 'example.com' } } },
    ]);
    expect(rule.ports).toEqual([
      { protocol: 'tcp', name: { value: 'http' } },
      { protocol: 'udp' },
      { protocol: 'sctp', port: { value: 9000 } },
      { protocol: 'icmp' },
      { protocol: 'icmp', icmpType: { value: 3 }, icmpCode: { value: 1 } },
      { protocol: 'icmpv6', icmpType: { value: 128 } },
      { protocol: 'tcp', port: { value: 53 } },
      { protocol: 'udp', port: { value: 1000 }, endPort: { value: 2000 } },
      { protocol: 'tcp', name: { value: 'metrics' } },
      { protocol: 'icmp', icmpType: { value: 0 }, icmpCode: { value: 0 } },
    ]);
  });

  test.each([
    ['500k', 500_000],
    ['500kbit', 500_000],
    ['1.5M', 1_500_000],
    ['100Mbit', 100_000_000],
    ['1G', 1_000_000_000],
    ['2Gbit', 2_000_000_000],
    ['9600bps', 9600],
    [9600, 9600],
  ])('rate %s', (rate, bps) => {
    const { decls, diagnostics } = parse(intentSet(`  rateLimits:\n    - {name: r, pods: web, ingress: ${rate}}\n`));
    expect(diagnostics).toEqual([]);
    expect((decls[0] as RateLimitDecl).ingress!.bps).toBe(bps);
  });

  test.each([
    ['250us', 250],
    ['50ms', 50_000],
    ['1.5ms', 1_500],
    ['2s', 2_000_000],
  ])('duration %s', (latency, us) => {
    const { decls } = parse(intentSet(`  rateLimits:\n    - {name: r, pods: web, latency: ${latency}, loss: 0.5}\n`));
    expect((decls[0] as RateLimitDecl).latency!.us).toBe(us);
    expect((decls[0] as RateLimitDecl).loss!.value).toBe(0.5);
  });

  test('bad rate, duration and loss units: NI4004 / NI4005 at the value', () => {
    const { diagnostics } = parse(intentSet(`  rateLimits:
    - name: r
      pods: web
      ingress: 10Q
      egress: fast
      latency: 50
      jitter: 5min
      loss: 150%
`));
    expect(where(diagnostics)).toEqual(['NI4004@9:16', 'NI4004@10:15', 'NI4005@11:16', 'NI4005@12:15', 'NI4005@13:13']);
    expect(diagnostics[0]!.message).toBe('Invalid rate "10Q": unknown unit "Q" (expected k, M, G, kbit, Mbit, Gbit, bps).');
    expect(diagnostics[2]!.message).toBe('Invalid latency "50": missing unit (us, ms, s).');
  });

  test('bad port numbers: NI4001 / NI4006', () => {
    const { diagnostics } = parse(intentSet(`  policies:
    - name: p
      rules:
        - {action: allow, from: any, to: any, ports: [tcp/0, tcp/90-80, tcp/70000, icmp type 300, {port: 90, endPort: 80}]}
`));
    expect(diagnostics.map((d) => d.code)).toEqual(['NI4001', 'NI4001', 'NI4001', 'NI4006', 'NI4001']);
  });

  test('aliases are followed', () => {
    const { decls, diagnostics } = parse(intentSet(`  groups:
    - name: a
      members: [{pods: &sel {matchLabels: {app: a}}}]
    - name: b
      members: [{pods: *sel}]
`));
    expect(diagnostics).toEqual([]);
    expect(withoutSpans((decls[1] as GroupDecl).members)).toEqual(withoutSpans((decls[0] as GroupDecl).members));
  });
});

describe('document dispatch', () => {
  test('other Kubernetes kinds are ignored silently', () => {
    const { decls, diagnostics } = parse(`apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\n${intentSet('  groups: []\n')}`);
    expect(diagnostics).toEqual([]);
    expect(decls).toEqual([]);
  });

  test('unknown netintent.dev kind or version: NI1103 at the kind', () => {
    const { diagnostics } = parse('apiVersion: netintent.dev/v1alpha1\nkind: Intents\n---\napiVersion: netintent.dev/v2\nkind: IntentSet\n');
    expect(where(diagnostics)).toEqual(['NI1103@2:7', 'NI1103@5:7']);
    expect(diagnostics[1]!.message).toBe('Unknown document kind "IntentSet" (apiVersion "netintent.dev/v2").');
  });

  test('a file with nothing recognisable: NI1104 warning', () => {
    for (const text of ['', '# only a comment\n', 'apiVersion: v1\nkind: ConfigMap\n', '- a list\n']) {
      const { diagnostics } = parse(text);
      expect(diagnostics.map((d) => [d.code, d.severity])).toEqual([['NI1104', 'warning']]);
    }
  });

  test('alias bombs are refused, not expanded', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const { diagnostics } = parse(`apiVersion: netintent.dev/v1alpha1\nkind: IntentSet\n${bomb.join('\n')}\n`);
    expect(diagnostics.map((d) => d.code)).toEqual(['NI1101']);
  });
});

test('the full example of docs/yaml.md means the same as the fixture', () => {
  const markdown = readFileSync(new URL('../../../docs/yaml.md', import.meta.url), 'utf8');
  const example = markdown.slice(markdown.indexOf('## Full example')).split('```yaml\n')[1]!.split('```')[0]!;
  const documented = parse(example);
  expect(documented.diagnostics).toEqual([]);
  expect(withoutSpans(documented.decls)).toEqual(withoutSpans(parse(fullText).decls));
});
