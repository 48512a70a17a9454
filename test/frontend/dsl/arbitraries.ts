/** fast-check generators of DSL declarations (for the printDsl round trip). */
import fc from 'fast-check';
import type * as A from '../../../src/ast/index.js';
import type { Span } from '../../../src/diagnostics/span.js';

const pos = { line: 1, col: 1, offset: 0 };
/** Spans do not survive printing; generated nodes all share this one. */
const span: Span = { file: 'gen.intent', start: pos, end: pos };

const identifier = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
/** Names, including keywords (reserved ones must be quoted by the printer) and odd strings. */
const nameValue = fc.oneof(
  { weight: 6, arbitrary: identifier },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'tier', 'kafka', 'http', 'dns', 'default', 'ingress', 'egress', 'name', 'pattern', 'host', 'to', 'from', 'select',
      'types', 'network', 'namespace', 'namespaces', 'tenant', 'any', 'all', 'or', 'in', 'on', 'pods', 'log', 'allow',
      'policy', 'group', 'where', 'except', 'l4-only', 'icmp', 'tcp/80', '10M', '42', 'app.kubernetes.io/name',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('with space', 'quote"d', 'back\\slash', '', '$notref', 'a//b', 'x->y', 'tab\tnl\n') },
);
const slashFree = fc.oneof({ weight: 5, arbitrary: identifier }, { weight: 1, arbitrary: fc.constantFrom('with space', 'tier', 'any', 'x"y') });

const text = (value: fc.Arbitrary<string> = nameValue): fc.Arbitrary<A.Text> => value.map((v) => ({ value: v, span }));
const num = (max: number): fc.Arbitrary<A.NumberLit> => fc.nat(max).map((value) => ({ value, span }));
const list = <T>(a: fc.Arbitrary<T>, min: number, max: number): fc.Arbitrary<T[]> => fc.array(a, { minLength: min, maxLength: max });
const maybe = <K extends string, T>(key: K, a: fc.Arbitrary<T>): fc.Arbitrary<Partial<Record<K, T>>> =>
  fc.option(a, { nil: undefined }).map((v) => (v === undefined ? {} : ({ [key]: v } as Record<K, T>)));

const addressText = fc.constantFrom('10.0.0.0/8', 'fd00::/64', '10.1.2.3', '::1', '10.0.0.1-10.0.0.9', '192.168.0.0/16', 'not an address');
const address = text(addressText);
const addressRange: fc.Arbitrary<A.AddressRange> = addressText.map((t) => ({
  text: t,
  kind: t.includes('/') ? 'cidr' : t.includes('-') ? 'range' : 'ip',
  span,
}));

const term: fc.Arbitrary<A.SelectorTerm> = fc.oneof(
  fc.record({ key: text(), op: fc.constantFrom('eq' as const, 'neq' as const), values: list(text(), 1, 1), span: fc.constant(span) }),
  fc.record({ key: text(), op: fc.constantFrom('in' as const, 'notin' as const), values: list(text(), 1, 3), span: fc.constant(span) }),
  fc.record({ key: text(), op: fc.constantFrom('exists' as const, 'notexists' as const), values: fc.constant([]), span: fc.constant(span) }),
);
const selector: fc.Arbitrary<A.Selector> = list(term, 0, 3).map((terms) => ({ terms, span }));

const scope: fc.Arbitrary<A.NamespaceScope> = fc.oneof(
  list(text(), 1, 3).map((names) => ({ kind: 'names' as const, names, span })),
  selector.map((s) => ({ kind: 'selector' as const, selector: s, span })),
  text().map((tenant) => ({ kind: 'tenant' as const, tenant, span })),
);

const podsMember = fc
  .tuple(selector, maybe('scope', scope), maybe('cluster', text()), maybe('network', text()))
  .map(([sel, s, c, n]): A.GroupMember => ({ kind: 'pods', selector: sel, ...s, ...c, ...n, span }));
const inlineMember: fc.Arbitrary<A.GroupMember> = fc.oneof(
  podsMember,
  fc.tuple(address, list(address, 0, 2)).map(([cidr, except]) => ({ kind: 'cidr' as const, cidr, except, span })),
  text().map((pattern) => ({ kind: 'fqdn' as const, pattern, span })),
  fc
    .tuple(text(slashFree), text(slashFree), maybe('cluster', text()))
    .map(([namespace, n, c]) => ({ kind: 'service' as const, namespace, name: n, ...c, span })),
);
const member: fc.Arbitrary<A.GroupMember> = fc.oneof(inlineMember, text().map((n) => ({ kind: 'group' as const, name: n, span })));

const peer: fc.Arbitrary<A.Peer> = fc.oneof(
  fc.constant({ kind: 'any' as const, span }),
  text().map((n) => ({ kind: 'group' as const, name: n, span })),
  inlineMember.map((m) => ({ kind: 'inline' as const, member: m, span })),
);

const portSpec: fc.Arbitrary<A.PortSpec> = fc.oneof(
  fc.constantFrom('tcp', 'udp', 'sctp', 'icmp', 'icmpv6', 'any').map((protocol) => ({ protocol: protocol as A.Protocol, span })),
  fc
    .tuple(fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const), num(70000), fc.option(num(70000), { nil: undefined }))
    .map(([protocol, port, endPort]) => ({ protocol, port, ...(endPort ? { endPort } : {}), span })),
  fc
    .tuple(fc.constantFrom('tcp' as const, 'udp' as const), fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/))
    .map(([protocol, n]) => ({ protocol, name: { value: n, span }, span })),
  fc
    .tuple(fc.constantFrom('icmp' as const, 'icmpv6' as const), num(300), fc.option(num(300), { nil: undefined }))
    .map(([protocol, icmpType, icmpCode]) => ({ protocol, icmpType, ...(icmpCode ? { icmpCode } : {}), span })),
);

const l7Value = text(fc.oneof(identifier, fc.constantFrom('/v1/.*', '*', 'with "quotes"', '')));
const httpMatch: fc.Arbitrary<A.HttpMatch> = fc
  .tuple(maybe('method', text(fc.constantFrom('GET', 'POST', 'DELETE'))), maybe('path', l7Value), maybe('host', l7Value), list(
    fc.tuple(l7Value, maybe('value', l7Value)).map(([n, v]) => ({ name: n, ...v, span })),
    0,
    2,
  ))
  .map(([m, p, h, headers]) => ({ ...m, ...p, ...h, headers, span }));
const kafkaMatch: fc.Arbitrary<A.KafkaMatch> = fc
  .tuple(maybe('role', text(fc.constantFrom('produce', 'consume', 'other role'))), maybe('apiKey', l7Value), maybe('topic', l7Value), maybe('clientId', l7Value))
  .map(([r, a, t, c]) => ({ ...r, ...a, ...t, ...c, span }));
const dnsMatch: fc.Arbitrary<A.DnsMatch> = fc.oneof(
  l7Value.map((v) => ({ matchName: v, span })),
  l7Value.map((v) => ({ matchPattern: v, span })),
);
const l7: fc.Arbitrary<A.L7Clause> = fc
  .tuple(list(httpMatch, 0, 2), list(kafkaMatch, 0, 2), list(dnsMatch, 0, 2))
  .map(([http, kafka, dns]) => ({ http, kafka, dns, span }));

const rule: fc.Arbitrary<A.RuleDecl> = fc
  .tuple(
    fc.constantFrom('allow' as const, 'deny' as const, 'reject' as const, 'pass' as const),
    list(peer, 1, 3),
    list(peer, 1, 3),
    list(portSpec, 0, 3),
    fc.boolean(),
    maybe('l7', l7),
    fc.boolean(),
  )
  .map(([action, from, to, ports, log, l, l4Only]) => ({ action, from, to, ports, log, ...l, l4Only, span }));

const rate = fc.constantFrom<[string, number]>(['10M', 1e7], ['500k', 5e5], ['1.5Gbit', 1.5e9], ['64bps', 64], ['2Mbps', 2e6]).map(([t, bps]) => ({ bps, text: t, span }));
const duration = fc.constantFrom<[string, number]>(['50ms', 50_000], ['250us', 250], ['1s', 1e6]).map(([t, us]) => ({ us, text: t, span }));
const percent = fc.constantFrom<[string, number]>(['1%', 1], ['0.5%', 0.5], ['100%', 100]).map(([t, value]) => ({ value, text: t, span }));

const tenant: fc.Arbitrary<A.TenantDecl> = fc
  .tuple(
    text(),
    fc.oneof(
      list(text(), 0, 3).map((names) => ({ kind: 'names' as const, names, span })),
      selector.map((s) => ({ kind: 'selector' as const, selector: s, span })),
    ),
    fc.constantFrom('strict' as const, 'default' as const, 'none' as const),
    list(addressRange, 0, 2),
    maybe('ingressCap', rate),
    maybe('egressCap', rate),
    list(text(), 0, 2),
    fc.boolean(),
  )
  .map(([n, namespaces, isolation, pools, ic, ec, networks, allowHostAccess]) => ({
    kind: 'tenant', name: n, namespaces, isolation, pools, ...ic, ...ec, networks, allowHostAccess, span,
  }));

const group: fc.Arbitrary<A.GroupDecl> = fc.tuple(text(), list(member, 0, 4)).map(([n, members]) => ({ kind: 'group', name: n, members, span }));

const policy: fc.Arbitrary<A.PolicyDecl> = fc
  .tuple(text(), fc.constantFrom('admin' as const, 'tenant' as const, 'application' as const, 'baseline' as const), num(65535), list(rule, 0, 3))
  .map(([n, tier, priority, rules]) => ({ kind: 'policy', name: n, tier, priority, rules, span }));

const fixedIp: fc.Arbitrary<A.FixedIpDecl> = fc
  .tuple(text(slashFree), text(slashFree), list(address, 1, 2))
  .map(([namespace, pod, ips]) => ({ kind: 'fixed-ip', namespace, pod, ips, span }));

const pool: fc.Arbitrary<A.PoolDecl> = fc
  .tuple(text(), fc.constantFrom('Deployment' as const, 'StatefulSet' as const), text(slashFree), text(slashFree), list(addressRange, 1, 2), list(address, 0, 2))
  .map(([n, kind, namespace, wname, ranges, reserved]) => ({
    kind: 'pool', name: n, workload: { kind, namespace, name: wname, span }, ranges, reserved, span,
  }));

const egressGateway: fc.Arbitrary<A.EgressGatewayDecl> = fc
  .tuple(text(), list(peer, 0, 2), list(address, 0, 2), list(address, 0, 2), maybe('nodeSelector', selector), list(text(), 0, 2), list(address, 0, 2))
  .map(([n, pods, destinations, except, ns, nodes, egressIps]) => ({
    kind: 'egress-gateway', name: n, pods, destinations, except: destinations.length ? except : [], ...ns, nodes, egressIps, span,
  }));

const rateLimit: fc.Arbitrary<A.RateLimitDecl> = fc
  .tuple(text(), list(peer, 0, 2), maybe('ingress', rate), maybe('egress', rate), maybe('latency', duration), maybe('jitter', duration), maybe('loss', percent))
  .map(([n, pods, i, e, l, j, lo]) => ({ kind: 'rate', name: n, pods, ...i, ...e, ...l, ...j, ...lo, span }));

const cluster: fc.Arbitrary<A.ClusterDecl> = fc
  .tuple(text(), list(address, 0, 2), list(address, 0, 2))
  .map(([n, podCidrs, serviceCidrs]) => ({ kind: 'cluster', name: n, podCidrs, serviceCidrs, span }));

const netpolPeer: fc.Arbitrary<A.NetpolPeer> = fc.oneof(
  fc.tuple(selector, maybe('namespaceSelector', selector)).map(([podSelector, ns]) => ({ kind: 'pods' as const, podSelector, ...ns, span })),
  selector.map((namespaceSelector) => ({ kind: 'pods' as const, namespaceSelector, span })),
  fc.tuple(address, list(address, 0, 2)).map(([cidr, except]) => ({ kind: 'ipBlock' as const, cidr, except, span })),
);
const netpolRule: fc.Arbitrary<A.NetpolRule> = fc
  .tuple(list(netpolPeer, 0, 3), list(portSpec, 0, 2))
  .map(([peers, ports]) => ({ peers, ports, span }));
const networkPolicy: fc.Arbitrary<A.NetworkPolicyDecl> = fc
  .tuple(text(slashFree), text(slashFree), selector, fc.constantFrom<('Ingress' | 'Egress')[]>(['Ingress'], ['Egress'], ['Ingress', 'Egress']), list(netpolRule, 0, 2), list(netpolRule, 0, 2))
  .map(([namespace, n, podSelector, policyTypes, ingress, egress]) => ({
    kind: 'networkpolicy', namespace, name: n, podSelector, policyTypes, ingress, egress, span,
  }));

export const decl: fc.Arbitrary<A.Decl> = fc.oneof(tenant, group, policy, fixedIp, pool, egressGateway, rateLimit, cluster, networkPolicy);
export const decls = list(decl, 1, 4);
