/**
 * Canonical DSL printing. `printDsl` prints declarations (e.g. imported NetworkPolicies);
 * `fmt` prints parsed statements, whose values may still be `$name` references
 * (`Pending`, printed as written) and whose block items keep their source order.
 * Every line carries the source offset it came from (`anchor`), so `fmt` can put comments back.
 */
import type * as A from '../../ast/index.js';
import { isAddressWord, isBareName, isNamespacedName, quote, HTTP_METHOD } from '../../../grammar/lexer.js';
import { Pending, sourceItems, type Item, type Statement } from './build.js';

export interface Line {
  depth: number;
  text: string;
  /** Source offset of the first token printed on this line; absent for synthesised lines. */
  anchor?: number;
}

const WORD = /^(?:[A-Za-z0-9_.:%]|-(?!>)|\/(?!\/))+$/;

type Leaf = A.Text | Pending;

function bareOrQuoted(value: string, bare: (s: string) => boolean): string {
  return WORD.test(value) && bare(value) ? value : quote(value);
}

/** Names, label keys and values: bare unless reserved or not a word. */
function name(x: Leaf): string {
  return x instanceof Pending ? x.source : bareOrQuoted(x.value, isBareName);
}

function names(xs: readonly Leaf[]): string {
  return xs.map(name).join(', ');
}

function l7Text(x: Leaf): string {
  return x instanceof Pending ? x.source : quote(x.value);
}

function address(x: Leaf | A.AddressRange): string {
  if (x instanceof Pending) return x.source;
  const text = 'text' in x ? x.text : x.value;
  return bareOrQuoted(text, isAddressWord);
}

function addresses(xs: readonly (Leaf | A.AddressRange)[]): string {
  return xs.map(address).join(', ');
}

function number(x: A.NumberLit | Pending): string {
  return x instanceof Pending ? x.source : String(x.value);
}

function quantity(x: A.Rate | A.Duration | A.Percent | Pending): string {
  return x instanceof Pending ? x.source : x.text;
}

function namespaced(namespace: Leaf, nameLeaf: Leaf): string {
  const [ns, n] = [namespace as A.Text, nameLeaf as A.Text];
  const text = `${ns.value}/${n.value}`;
  return WORD.test(text) && isNamespacedName(text) ? text : quote(text);
}

// ---------------------------------------------------------------- selectors, members, peers

function term(t: A.SelectorTerm): string {
  const key = name(t.key);
  switch (t.op) {
    case 'eq':
      return `${key} = ${name(t.values[0]!)}`;
    case 'neq':
      return `${key} != ${name(t.values[0]!)}`;
    case 'in':
      return `${key} in (${names(t.values)})`;
    case 'notin':
      return `${key} notin (${names(t.values)})`;
    case 'exists':
      return key;
    case 'notexists':
      return `!${key}`;
  }
}

function selector(s: A.Selector): string {
  return s.terms.length === 0 ? 'all' : s.terms.map(term).join(', ');
}

function whereSelector(s: A.Selector): string {
  return s.terms.length === 0 ? 'all' : `where ${selector(s)}`;
}

function scope(s: A.NamespaceScope): string {
  switch (s.kind) {
    case 'names':
      return s.names.length === 1 ? ` in namespace ${name(s.names[0]!)}` : ` in namespaces ${names(s.names)}`;
    case 'selector':
      return ` in namespaces ${whereSelector(s.selector)}`;
    case 'tenant':
      return ` in tenant ${name(s.tenant)}`;
  }
}

function member(m: A.GroupMember): string {
  switch (m.kind) {
    case 'pods':
      return (
        `pods ${selector(m.selector)}` +
        (m.scope ? scope(m.scope) : '') +
        (m.cluster ? ` in cluster ${name(m.cluster)}` : '') +
        (m.network ? ` on network ${name(m.network)}` : '')
      );
    case 'cidr':
      return `cidr ${address(m.cidr)}${m.except.length ? ` except ${addresses(m.except)}` : ''}`;
    case 'fqdn':
      return `fqdn ${name(m.pattern)}`;
    case 'service':
      return `service ${namespaced(m.namespace, m.name)}${m.cluster ? ` in cluster ${name(m.cluster)}` : ''}`;
    case 'group':
      return `group ${name(m.name)}`;
  }
}

function peers(ps: readonly A.Peer[]): string {
  return ps.map((p) => (p.kind === 'any' ? 'any' : p.kind === 'group' ? name(p.name) : member(p.member))).join(' or ');
}

// ---------------------------------------------------------------- ports and L7

function port(p: A.PortSpec | Pending): string {
  if (p instanceof Pending) return p.source;
  if (p.icmpType) return `${p.protocol} type ${number(p.icmpType)}${p.icmpCode ? ` code ${number(p.icmpCode)}` : ''}`;
  if (p.port) return `${p.protocol}/${number(p.port)}${p.endPort ? `-${number(p.endPort)}` : ''}`;
  if (p.name) return `${p.protocol}/${(p.name as A.Text).value}`;
  return p.protocol;
}

function ports(ps: readonly A.PortSpec[]): string {
  return ps.length ? ` on ${ps.map(port).join(', ')}` : '';
}

function httpMatch(m: A.HttpMatch): string {
  const method = m.method && HTTP_METHOD.test(m.method.value) ? m.method.value : '*';
  return (
    method +
    (m.path ? ` ${l7Text(m.path)}` : '') +
    (m.host ? ` host ${l7Text(m.host)}` : '') +
    m.headers.map((h) => ` header ${l7Text(h.name)}${h.value ? ` = ${l7Text(h.value)}` : ''}`).join('')
  );
}

function kafkaMatch(m: A.KafkaMatch): string {
  const role = !m.role ? '*' : m.role.value === 'produce' || m.role.value === 'consume' ? m.role.value : quote(m.role.value);
  return (
    role +
    (m.apiKey ? ` api-key ${l7Text(m.apiKey)}` : '') +
    (m.topic ? ` topic ${l7Text(m.topic)}` : '') +
    (m.clientId ? ` client-id ${l7Text(m.clientId)}` : '')
  );
}

function dnsMatch(m: A.DnsMatch): string {
  return m.matchName ? `name ${l7Text(m.matchName)}` : `pattern ${l7Text(m.matchPattern!)}`;
}

function ruleLines(r: A.RuleDecl, depth: number): Line[] {
  const head = `${r.action} ${peers(r.from)} -> ${peers(r.to)}${ports(r.ports)}`;
  const flags = (r.log ? ' log' : '') + (r.l4Only ? ' l4-only' : '');
  const anchor = r.span.start.offset;
  if (!r.l7) return [{ depth, text: head + flags, anchor }];
  const l7 = r.l7;
  const blocks: { keyword: string; lines: Line[] }[] = [
    { keyword: 'http', lines: l7.http.map((m) => ({ depth: depth + 1, text: httpMatch(m), anchor: m.span.start.offset })) },
    { keyword: 'kafka', lines: l7.kafka.map((m) => ({ depth: depth + 1, text: kafkaMatch(m), anchor: m.span.start.offset })) },
    { keyword: 'dns', lines: l7.dns.map((m) => ({ depth: depth + 1, text: dnsMatch(m), anchor: m.span.start.offset })) },
  ].filter((b) => b.lines.length > 0);
  if (blocks.length === 0) return [{ depth, text: `${head} http {}${flags}`, anchor }];
  const lines: Line[] = [];
  blocks.forEach((b, i) => {
    if (i === 0) lines.push({ depth, text: `${head} ${b.keyword} {`, anchor });
    else lines.push({ depth, text: `} ${b.keyword} {` });
    lines.push(...b.lines);
  });
  lines.push({ depth, text: `}${flags}`, anchor: l7.span.end.offset - 1 });
  return lines;
}

// ---------------------------------------------------------------- block items

/** The items of a block declaration in canonical order (for declarations not read from source). */
function canonicalItems(d: A.Decl): Item[] {
  const items: Item[] = [];
  const add = (tag: string, value: unknown, when = true): void => {
    if (when) items.push({ tag, value, span: d.span });
  };
  switch (d.kind) {
    case 'cluster':
      add('podCidrs', d.podCidrs, d.podCidrs.length > 0);
      add('serviceCidrs', d.serviceCidrs, d.serviceCidrs.length > 0);
      break;
    case 'tenant':
      if (d.namespaces.kind === 'names') add('namespaceNames', d.namespaces.names, d.namespaces.names.length > 0);
      if (d.namespaces.kind === 'selector') add('namespaceSelector', d.namespaces.selector);
      add('isolation', { text: d.isolation }, d.isolation !== 'default');
      add('pools', d.pools, d.pools.length > 0);
      add('cap', { ingress: d.ingressCap, egress: d.egressCap }, !!(d.ingressCap || d.egressCap));
      add('networks', d.networks, d.networks.length > 0);
      add('hostAccess', true, d.allowHostAccess);
      break;
    case 'egress-gateway':
      add('pods', d.pods, d.pods.length > 0);
      add('to', { to: d.destinations, except: d.except }, d.destinations.length > 0);
      if (d.nodeSelector) add('nodeSelector', d.nodeSelector);
      add('nodes', d.nodes, d.nodes.length > 0);
      add('egressIps', d.egressIps, d.egressIps.length > 0);
      break;
    case 'rate':
      add('pods', d.pods, d.pods.length > 0);
      for (const key of ['ingress', 'egress', 'latency', 'jitter', 'loss'] as const) add(key, d[key], d[key] !== undefined);
      break;
    case 'networkpolicy': {
      add('select', d.podSelector, d.podSelector.terms.length > 0);
      const upstreamDefault = d.egress.length ? 'Ingress,Egress' : 'Ingress';
      const types = d.policyTypes.map((t) => ({ text: t.toLowerCase() }));
      add('types', types, types.length > 0 && d.policyTypes.join(',') !== upstreamDefault);
      for (const r of d.ingress) add('ingress', r);
      for (const r of d.egress) add('egress', r);
      break;
    }
    default:
      break;
  }
  return items;
}

function netpolPeer(p: A.NetpolPeer): string {
  if (p.kind === 'ipBlock') return `cidr ${address(p.cidr)}${p.except.length ? ` except ${addresses(p.except)}` : ''}`;
  // A peer with neither selector is invalid upstream; print it as the same-namespace `pods all`.
  if (!p.podSelector && p.namespaceSelector) return `namespaces ${whereSelector(p.namespaceSelector)}`;
  if (!p.podSelector) return 'pods all';
  return `pods ${selector(p.podSelector)}${p.namespaceSelector ? ` in namespaces ${whereSelector(p.namespaceSelector)}` : ''}`;
}

function itemText(it: Item): string {
  const v = it.value;
  switch (it.tag) {
    case 'podCidrs':
      return `pods ${addresses(v)}`;
    case 'serviceCidrs':
      return `services ${addresses(v)}`;
    case 'namespaceNames':
      return `namespaces ${names(v)}`;
    case 'namespaceSelector':
      return `namespaces ${whereSelector(v)}`;
    case 'isolation':
      return `isolation ${v.text}`;
    case 'pools':
      return `pool ${addresses(v)}`;
    case 'cap':
      return `cap${v.ingress ? ` ingress ${quantity(v.ingress)}` : ''}${v.egress ? ` egress ${quantity(v.egress)}` : ''}`;
    case 'networks':
      return `networks ${names(v)}`;
    case 'hostAccess':
      return 'allow host-access';
    case 'pods':
      return `pods ${peers(v)}`;
    case 'to':
      return `to ${addresses(v.to)}${v.except.length ? ` except ${addresses(v.except)}` : ''}`;
    case 'nodeSelector':
      return `nodes ${whereSelector(v)}`;
    case 'nodes':
      return `nodes ${names(v)}`;
    case 'egressIps':
      return `egress-ip ${addresses(v)}`;
    case 'ingress':
    case 'egress':
      if ('peers' in v) {
        const rule = v as A.NetpolRule;
        const keyword = it.tag === 'ingress' ? 'from' : 'to';
        return `${it.tag}${rule.peers.length ? ` ${keyword} ${rule.peers.map(netpolPeer).join(' or ')}` : ''}${ports(rule.ports)}`;
      }
      return `${it.tag} ${quantity(v)}`;
    case 'latency':
    case 'jitter':
    case 'loss':
      return `${it.tag} ${quantity(v)}`;
    case 'select':
      return `select ${selector(v)}`;
    case 'types':
      return `types ${(v as { text: string }[]).map((t) => t.text).join(', ')}`;
    default:
      throw new Error(`unknown block item ${it.tag}`);
  }
}

// ---------------------------------------------------------------- statements

function block(header: string, anchor: number, end: number, body: Line[]): Line[] {
  if (body.length === 0) return [{ depth: 0, text: `${header} {}`, anchor }];
  return [{ depth: 0, text: `${header} {`, anchor }, ...body, { depth: 0, text: '}', anchor: end - 1 }];
}

function itemLines(d: A.Decl, fromSource: boolean): Line[] {
  const items = (fromSource ? sourceItems.get(d) : undefined) ?? canonicalItems(d);
  return items.map((it) => ({ depth: 1, text: itemText(it), ...(fromSource ? { anchor: it.span.start.offset } : {}) }));
}

/** Lines of one statement; `fromSource` keeps the block items as they were written. */
export function statementLines(s: Statement, fromSource: boolean): Line[] {
  const anchor = s.span.start.offset;
  const end = s.span.end.offset;
  switch (s.kind) {
    case 'include':
      return [{ depth: 0, text: `include ${quote(s.path.value)}`, anchor }];
    case 'let':
      return [{ depth: 0, text: `let ${s.name.value} = ${s.value.text}`, anchor }];
    case 'cluster':
    case 'tenant':
    case 'egress-gateway':
    case 'rate':
      return block(`${s.kind} ${name(s.name)}`, anchor, end, itemLines(s, fromSource));
    case 'networkpolicy':
      return block(`networkpolicy ${namespaced(s.namespace, s.name)}`, anchor, end, itemLines(s, fromSource));
    case 'group':
      return block(
        `group ${name(s.name)}`,
        anchor,
        end,
        s.members.map((m) => ({ depth: 1, text: member(m), anchor: m.span.start.offset })),
      );
    case 'policy': {
      const header =
        `policy ${name(s.name)}` +
        (s.tier !== 'application' ? ` tier ${s.tier}` : '') +
        (s.priority instanceof Pending || s.priority.value !== 1000 ? ` priority ${number(s.priority)}` : '');
      return block(header, anchor, end, s.rules.flatMap((r) => ruleLines(r, 1)));
    }
    case 'fixed-ip':
      return [{ depth: 0, text: `fixed-ip ${namespaced(s.namespace, s.pod)} ${addresses(s.ips)}`, anchor }];
    case 'pool': {
      const w = s.workload;
      const reserve = s.reserved.length ? ` reserve ${addresses(s.reserved)}` : '';
      const kind = w.kind === 'Deployment' ? 'deployment' : 'statefulset';
      return [{ depth: 0, text: `pool ${name(s.name)} ${kind} ${namespaced(w.namespace, w.name)} ${addresses(s.ranges)}${reserve}`, anchor }];
    }
  }
}

export function renderLine(l: Line): string {
  return '  '.repeat(l.depth) + l.text;
}

/** Canonical DSL for declarations; `parseDsl(printDsl(d))` gives back `d` (modulo spans). */
export function printDsl(decls: readonly A.Decl[]): string {
  const out: string[] = [];
  decls.forEach((d, i) => {
    const lines = statementLines(d, false);
    // Runs of one-line statements of one kind stay together; everything else is separated.
    const prev = decls[i - 1];
    if (prev && (lines.length > 1 || prev.kind !== d.kind)) out.push('');
    out.push(...lines.map(renderLine));
  });
  return out.length ? `${out.join('\n')}\n` : '';
}
