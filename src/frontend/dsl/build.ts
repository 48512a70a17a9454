/**
 * AST builders called by the grammar's postprocessors. Earley parsing runs them for dead
 * branches too, so they never report: anything that may produce a diagnostic (a `$name`
 * reference, a rate or duration unit) becomes a `Pending` that is resolved after the parse.
 */
import type * as A from '../../ast/index.js';
import { OffsetSpan, type Span } from '../../diagnostics/span.js';
import { diag, type Diagnostic } from '../../diagnostics/diagnostic.js';
import { isAddressWord, type Token } from '../../../grammar/lexer.js';

/** Nearley hands postprocessors an array of tokens, nodes, lists and nulls. */
type D = any[];

// ---------------------------------------------------------------- statements that are not declarations

export interface IncludeStatement extends A.Node {
  kind: 'include';
  path: A.Text;
}

export interface LetStatement extends A.Node {
  kind: 'let';
  name: A.Name;
  value: Token;
}

export type Statement = A.Decl | IncludeStatement | LetStatement;

// ---------------------------------------------------------------- pending values

export type ValueKind = 'number' | 'address' | 'rate' | 'duration' | 'percent' | 'string' | 'name';

export const VALUE_KIND_NAMES: Record<ValueKind, string> = {
  number: 'number',
  address: 'network address',
  rate: 'rate',
  duration: 'duration',
  percent: 'percentage',
  string: 'string',
  name: 'name',
};

export interface ResolveContext {
  /** The value of `$name` if it is defined with one of `kinds`; reports NI1006/NI1010 otherwise. */
  lookup(ref: Token, kinds: readonly ValueKind[]): Token | undefined;
  report(d: Diagnostic): void;
}

/** A value finished after the parse; `source` is how it was written (kept by `fmt`). */
export class Pending {
  /** How many were made so far: the parser tells from it which statements hold any. */
  static made = 0;

  constructor(
    readonly source: string,
    readonly span: Span,
    readonly resolve: (ctx: ResolveContext) => unknown,
  ) {
    Pending.made++;
  }
}

const RATE_UNITS: Record<string, number> = {
  bps: 1, k: 1e3, kbit: 1e3, kbps: 1e3, M: 1e6, Mbit: 1e6, Mbps: 1e6, G: 1e9, Gbit: 1e9, Gbps: 1e9,
};
const DURATION_UNITS: Record<string, number> = { us: 1, ms: 1e3, s: 1e6 };
const QUANTITY = /^([0-9]+(?:\.[0-9]+)?)([A-Za-z%]*)$/;

export function classifyValue(t: Token): ValueKind {
  if (t.type === 'string') return 'string';
  const q = QUANTITY.exec(t.text);
  if (q) {
    const unit = q[2]!;
    if (unit === '') return 'number';
    if (unit === '%') return 'percent';
    if (unit in DURATION_UNITS) return 'duration';
    if (unit in RATE_UNITS) return 'rate';
  }
  return isAddressWord(t.text) ? 'address' : 'name';
}

function makeRate(text: string, span: Span, ctx: ResolveContext): A.Rate {
  const q = QUANTITY.exec(text);
  const factor = q ? RATE_UNITS[q[2]!] : undefined;
  if (!q || factor === undefined) {
    const why = q && q[2] ? `unknown unit "${q[2]}" (use k, M, G, kbit, Mbit, Gbit or bps)` : 'expected a number with a unit';
    ctx.report(diag('NI4004', span, [text, why]));
    return { bps: 0, text, span };
  }
  return { bps: Math.round(Number(q[1]) * factor), text, span };
}

function makeDuration(text: string, span: Span, ctx: ResolveContext): A.Duration {
  const q = QUANTITY.exec(text);
  const factor = q ? DURATION_UNITS[q[2]!] : undefined;
  if (!q || factor === undefined) {
    const why = q && q[2] ? `unknown unit "${q[2]}" (use us, ms or s)` : 'expected a number with a unit (us, ms or s)';
    ctx.report(diag('NI4005', span, ['duration', text, why]));
    return { us: 0, text, span };
  }
  return { us: Math.round(Number(q[1]) * factor), text, span };
}

function makePercent(text: string, span: Span, ctx: ResolveContext): A.Percent {
  const q = QUANTITY.exec(text);
  if (!q || q[2] !== '%') {
    ctx.report(diag('NI4005', span, ['loss', text, 'expected a percentage such as 1%']));
    return { value: 0, text, span };
  }
  return { value: Number(q[1]), text, span };
}

function makeRange(text: string, span: Span): A.AddressRange {
  return { text, kind: text.includes('/') ? 'cidr' : text.includes('-') ? 'range' : 'ip', span };
}

/** A `$name` use: resolved to `make(value)` or, when undefined or of the wrong kind, to `make` of the reference text. */
function reference(ref: Token, kinds: readonly ValueKind[], make: (text: string, span: Span, ctx: ResolveContext) => unknown): Pending {
  const span = tokenSpan(ref);
  return new Pending(ref.text, span, (ctx) => make(ctx.lookup(ref, kinds)?.value ?? ref.text, span, ctx));
}

// ---------------------------------------------------------------- spans and lists

export interface Cons<T> {
  prev: Cons<T> | null;
  item: T;
}

export function toArray<T>(list: Cons<T> | null): T[] {
  const out: T[] = [];
  for (let c = list; c; c = c.prev) out.push(c.item);
  // The copy is exactly as long as the list: an array grown by `push` keeps room for 16 more, and ASTs are large.
  return out.reverse().slice();
}

function isToken(x: any): x is Token {
  return typeof x.offset === 'number' && typeof x.text === 'string';
}

function isCons(x: any): x is Cons<unknown> {
  return 'prev' in x && 'item' in x;
}

export function tokenSpan(t: Token): OffsetSpan {
  return new OffsetSpan(t.lines, t.offset, t.offset + t.text.length);
}

/** Sub-range of a (single-line) token, for `tcp/80`'s port or `ns/name`'s parts. */
function subSpan(t: Token, from: number, to: number): OffsetSpan {
  return new OffsetSpan(t.lines, t.offset + from, t.offset + to);
}

/** What a production's data starts (or ends) with: a token, or a node built before (every span the builders make is an `OffsetSpan`). */
type Edge = Token | { span: OffsetSpan };

function edge(x: any, first: boolean): Edge | undefined {
  if (x === null || x === undefined || typeof x !== 'object') return undefined;
  if (isToken(x) || x.span) return x;
  if (Array.isArray(x)) return edgeOfParts(x, first);
  if (isCons(x)) {
    if (!first) return edge(x.item, false);
    let c: Cons<unknown> = x;
    while (c.prev) c = c.prev;
    return edge(c.item, true);
  }
  return undefined;
}

function edgeOfParts(parts: readonly unknown[], first: boolean): Edge | undefined {
  for (let i = 0; i < parts.length; i++) {
    const e = edge(parts[first ? i : parts.length - 1 - i], first);
    if (e) return e;
  }
  return undefined;
}

/** The span from the first to the last token of a production's data. */
function spanOf(d: D): OffsetSpan {
  const first = edgeOfParts(d, true)!;
  const last = edgeOfParts(d, false)!;
  if (first === last && !isToken(first)) return first.span; // around one node: the same range, so the same (immutable) span
  const lines = isToken(first) ? first.lines : first.span.lines;
  const start = isToken(first) ? first.offset : first.span.startOffset;
  const end = isToken(last) ? last.offset + last.text.length : last.span.endOffset;
  return new OffsetSpan(lines, start, end);
}

// ---------------------------------------------------------------- generic postprocessors

export const nil = (): null => null;
export const one = (d: D): Cons<unknown> => ({ prev: null, item: d[0] });
export const more = (d: D): Cons<unknown> => ({ prev: d[0], item: d[2] });
export const snoc = (d: D): Cons<unknown> => ({ prev: d[0], item: d[1] });
export const second = (d: D): unknown => d[1];
export const third = (d: D): unknown => d[2];
export const program = (d: D): Statement[] => toArray(d[0]);

/** A member line of a block (`isolation strict`), folded into its declaration. Lists are arrays. */
export interface Item {
  tag: string;
  value: any;
  span: Span;
}

/**
 * The items each block declaration was folded from, in source order: `fmt` prints them
 * back one per line instead of the canonical order of `printDsl`.
 */
export const sourceItems = new WeakMap<A.Decl, Item[]>();

const listOrValue = (x: any): any => (x !== null && typeof x === 'object' && isCons(x) ? toArray(x) : x);

export const item = (tag: string) => (d: D): Item => ({ tag, value: listOrValue(d[1]), span: spanOf(d) });

function itemsOf(decl: A.Decl, list: Cons<Item> | null): Item[] {
  const items = toArray(list);
  sourceItems.set(decl, items);
  return items;
}

// ---------------------------------------------------------------- values

export const leaf = (d: D): A.Text => ({ value: d[0].value, span: tokenSpan(d[0]) });
const makeLeaf = (text: string, span: Span): A.Text => ({ value: text, span });
const leafOrReference = (kinds: readonly ValueKind[]) => (d: D): A.Text | Pending =>
  d[0].type === 'ref' ? reference(d[0], kinds, makeLeaf) : leaf(d);
export const name = leafOrReference(['name', 'string']);
export const text = leafOrReference(['name', 'string', 'number']);
export const address = leafOrReference(['address']);

export const range = (d: D): A.AddressRange | Pending =>
  d[0].type === 'ref' ? reference(d[0], ['address'], makeRange) : makeRange(d[0].value, tokenSpan(d[0]));

const makeNumber = (text: string, span: Span): A.NumberLit => ({ value: /^[0-9]+$/.test(text) ? Number(text) : 0, span });
export const number = (d: D): A.NumberLit | Pending =>
  d[0].type === 'ref' ? reference(d[0], ['number'], makeNumber) : makeNumber(d[0].value, tokenSpan(d[0]));

/** Rates, durations and percentages are always pending: their units are checked after the parse. */
const quantity = (kind: ValueKind, make: (text: string, span: Span, ctx: ResolveContext) => unknown) => (d: D): Pending => {
  const t: Token = d[0];
  if (t.type === 'ref') return reference(t, [kind], make);
  const span = tokenSpan(t);
  return new Pending(t.text, span, (ctx) => make(t.text, span, ctx));
};
export const rate = quantity('rate', makeRate);
export const duration = quantity('duration', makeDuration);
export const percent = quantity('percent', makePercent);

export interface Namespaced {
  namespace: A.Name;
  name: A.Name;
}

export const namespaced = (d: D): Namespaced => {
  const t: Token = d[0];
  const slash = t.value.indexOf('/');
  const [ns, name] = [t.value.slice(0, slash), t.value.slice(slash + 1)];
  if (t.type === 'string') return { namespace: { value: ns, span: tokenSpan(t) }, name: { value: name, span: tokenSpan(t) } };
  return {
    namespace: { value: ns, span: subSpan(t, 0, slash) },
    name: { value: name, span: subSpan(t, slash + 1, t.text.length) },
  };
};

// ---------------------------------------------------------------- selectors

export const selectorAll = (d: D): A.Selector => ({ terms: [], span: spanOf(d) });
export const selector = (d: D): A.Selector => ({ terms: toArray(d[0]), span: spanOf(d) });
export const whereSelector = (d: D): A.Selector => ({ terms: toArray(d[1]), span: spanOf(d) });

export const term = (op: A.SelectorOp) => (d: D): A.SelectorTerm => {
  const span = spanOf(d);
  switch (op) {
    case 'eq':
    case 'neq':
      return { key: d[0], op, values: [d[2]], span };
    case 'in':
    case 'notin':
      return { key: d[0], op, values: toArray(d[3]), span };
    case 'exists':
      return { key: d[0], op, values: [], span };
    case 'notexists':
      return { key: d[1], op, values: [], span };
  }
};

// ---------------------------------------------------------------- members and peers

export const scopeNames = (d: D): A.NamespaceScope => ({ kind: 'names', names: toArray(d[2]), span: spanOf(d) });
export const scopeSelector = (d: D): A.NamespaceScope => ({ kind: 'selector', selector: d[2], span: spanOf(d) });
export const scopeTenant = (d: D): A.NamespaceScope => ({ kind: 'tenant', tenant: d[2], span: spanOf(d) });

export const podsMember = (d: D): A.GroupMember => ({
  kind: 'pods',
  selector: d[1],
  ...(d[2] ? { scope: d[2] } : {}),
  ...(d[3] ? { cluster: d[3] } : {}),
  ...(d[4] ? { network: d[4] } : {}),
  span: spanOf(d),
});
export const cidrMember = (d: D): A.GroupMember => ({ kind: 'cidr', cidr: d[1], except: toArray(d[2]), span: spanOf(d) });
export const fqdnMember = (d: D): A.GroupMember => ({ kind: 'fqdn', pattern: d[1], span: spanOf(d) });
export const serviceMember = (d: D): A.GroupMember => ({
  kind: 'service',
  namespace: d[1].namespace,
  name: d[1].name,
  ...(d[2] ? { cluster: d[2] } : {}),
  span: spanOf(d),
});
export const groupMember = (d: D): A.GroupMember => ({ kind: 'group', name: d[1], span: spanOf(d) });

export const anyPeer = (d: D): A.Peer => ({ kind: 'any', span: spanOf(d) });
export const groupPeer = (d: D): A.Peer => ({ kind: 'group', name: d[0], span: spanOf(d) });
export const inlinePeer = (d: D): A.Peer => ({ kind: 'inline', member: d[0], span: spanOf(d) });

// ---------------------------------------------------------------- ports and L7

function portFromWord(t: Token): A.PortSpec {
  const slash = t.text.indexOf('/');
  const span = tokenSpan(t);
  if (slash < 0) return { protocol: t.text as A.Protocol, span };
  const protocol = t.text.slice(0, slash) as A.Protocol;
  const rest = t.text.slice(slash + 1);
  const at = slash + 1;
  const numeric = /^([0-9]+)(?:-([0-9]+))?$/.exec(rest);
  if (!numeric) return { protocol, name: { value: rest, span: subSpan(t, at, t.text.length) }, span };
  const first = numeric[1]!;
  const port = { value: Number(first), span: subSpan(t, at, at + first.length) };
  if (numeric[2] === undefined) return { protocol, port, span };
  const endPort = { value: Number(numeric[2]), span: subSpan(t, at + first.length + 1, t.text.length) };
  return { protocol, port, endPort, span };
}

export const port = (d: D): A.PortSpec => portFromWord(d[0]);

export const portRef = (d: D): Pending => {
  const [proto, ref]: [Token, Token] = [d[0], d[1]];
  const span = spanOf(d);
  const protocol = proto.text.slice(0, -1) as A.Protocol;
  return new Pending(proto.text + ref.text, span, (ctx): A.PortSpec => {
    const value = ctx.lookup(ref, ['number', 'name'])?.value ?? ref.text;
    const valueSpan = tokenSpan(ref);
    return /^[0-9]+$/.test(value)
      ? { protocol, port: { value: Number(value), span: valueSpan }, span }
      : { protocol, name: { value, span: valueSpan }, span };
  });
};

export const icmp = (d: D): A.PortSpec => ({
  protocol: d[0].text,
  icmpType: d[2],
  ...(d[4] ? { icmpCode: d[4] } : {}),
  span: spanOf(d),
});

interface L7Block {
  kind: 'http' | 'kafka' | 'dns';
  rules: unknown[];
  span: Span;
}

export const l7Block = (kind: L7Block['kind']) => (d: D): L7Block => ({ kind, rules: toArray(d[2]), span: spanOf(d) });

export const l7Clause = (d: D): A.L7Clause => {
  const clause: A.L7Clause = { http: [], kafka: [], dns: [], span: spanOf(d) };
  for (const block of toArray<L7Block>(d[0])) (clause[block.kind] as unknown[]).push(...block.rules);
  return clause;
};

interface Wildcard {
  kind: 'wildcard';
  span: Span;
}

export const wildcard = (d: D): Wildcard => ({ kind: 'wildcard', span: spanOf(d) });

function unlessWildcard(x: A.Text | Wildcard): A.Text | undefined {
  return 'kind' in x ? undefined : x;
}

export const httpRule = (d: D): A.HttpMatch => {
  const method = unlessWildcard(d[0]);
  return {
    ...(method ? { method } : {}),
    ...(d[1] ? { path: d[1] } : {}),
    ...(d[2] ? { host: d[2] } : {}),
    headers: toArray(d[3]),
    span: spanOf(d),
  };
};

export const httpHeader = (d: D): A.HttpHeaderMatch => ({ name: d[1], ...(d[3] ? { value: d[3] } : {}), span: spanOf(d) });

export const kafkaRule = (d: D): A.KafkaMatch => {
  const role = unlessWildcard(d[0]);
  return {
    ...(role ? { role } : {}),
    ...(d[1] ? { apiKey: d[1] } : {}),
    ...(d[2] ? { topic: d[2] } : {}),
    ...(d[3] ? { clientId: d[3] } : {}),
    span: spanOf(d),
  };
};

export const dnsRule = (field: 'matchName' | 'matchPattern') => (d: D): A.DnsMatch => ({ [field]: d[1], span: spanOf(d) });

// ---------------------------------------------------------------- statements

export const include = (d: D): IncludeStatement => ({ kind: 'include', path: leaf([d[1]]), span: spanOf(d) });
export const letStatement = (d: D): LetStatement => ({ kind: 'let', name: leaf([d[1]]), value: d[3], span: spanOf(d) });

export const cluster = (d: D): A.ClusterDecl => {
  const decl: A.ClusterDecl = { kind: 'cluster', name: d[1], podCidrs: [], serviceCidrs: [], span: spanOf(d) };
  for (const it of itemsOf(decl, d[3])) (it.tag === 'podCidrs' ? decl.podCidrs : decl.serviceCidrs).push(...(it.value as A.Text[]));
  return decl;
};

export const cap = (d: D): Item => {
  const value: { ingress?: A.Rate; egress?: A.Rate } = {};
  value[d[1].text as 'ingress' | 'egress'] = d[2];
  if (d[4]) value.egress = d[4];
  return { tag: 'cap', value, span: spanOf(d) };
};

export const tenant = (d: D): A.TenantDecl => {
  const name: A.Name = d[1];
  const decl: A.TenantDecl = {
    kind: 'tenant',
    name,
    namespaces: { kind: 'names', names: [], span: name.span },
    isolation: 'default',
    pools: [],
    networks: [],
    allowHostAccess: false,
    span: spanOf(d),
  };
  for (const it of itemsOf(decl, d[3])) {
    switch (it.tag) {
      case 'namespaceNames':
        decl.namespaces = { kind: 'names', names: it.value, span: it.span };
        break;
      case 'namespaceSelector':
        decl.namespaces = { kind: 'selector', selector: it.value, span: it.span };
        break;
      case 'isolation':
        decl.isolation = it.value.text;
        break;
      case 'pools':
        decl.pools.push(...it.value);
        break;
      case 'cap':
        if (it.value.ingress) decl.ingressCap = it.value.ingress;
        if (it.value.egress) decl.egressCap = it.value.egress;
        break;
      case 'networks':
        decl.networks.push(...it.value);
        break;
      case 'hostAccess':
        decl.allowHostAccess = true;
        break;
    }
  }
  return decl;
};

export const group = (d: D): A.GroupDecl => ({ kind: 'group', name: d[1], members: toArray(d[3]), span: spanOf(d) });

export const rule = (d: D): A.RuleDecl => ({
  action: d[0].text,
  from: toArray(d[1]),
  to: toArray(d[3]),
  ports: toArray(d[4]),
  log: d[6] !== null,
  ...(d[5] ? { l7: d[5] } : {}),
  l4Only: d[7] !== null,
  span: spanOf(d),
});

export const policy = (d: D): A.PolicyDecl => {
  const name: A.Name = d[1];
  return {
    kind: 'policy',
    name,
    tier: d[2] ? d[2].text : 'application',
    priority: d[3] ?? { value: 1000, span: name.span },
    rules: toArray(d[5]),
    span: spanOf(d),
  };
};

export const fixedIp = (d: D): A.FixedIpDecl => ({
  kind: 'fixed-ip',
  namespace: d[1].namespace,
  pod: d[1].name,
  ips: toArray(d[2]),
  span: spanOf(d),
});

export const workload = (d: D): A.PoolDecl['workload'] => ({
  kind: d[0].text === 'deployment' ? 'Deployment' : 'StatefulSet',
  namespace: d[1].namespace,
  name: d[1].name,
  span: spanOf(d),
});

export const pool = (d: D): A.PoolDecl => ({
  kind: 'pool',
  name: d[1],
  workload: d[2],
  ranges: toArray(d[3]),
  reserved: toArray(d[4]),
  span: spanOf(d),
});

export const egressTo = (d: D): Item => ({ tag: 'to', value: { to: toArray(d[1]), except: toArray(d[2]) }, span: spanOf(d) });

export const egressGateway = (d: D): A.EgressGatewayDecl => {
  const decl: A.EgressGatewayDecl = {
    kind: 'egress-gateway',
    name: d[1],
    pods: [],
    destinations: [],
    except: [],
    nodes: [],
    egressIps: [],
    span: spanOf(d),
  };
  for (const it of itemsOf(decl, d[3])) {
    switch (it.tag) {
      case 'pods':
        decl.pods.push(...it.value);
        break;
      case 'to':
        decl.destinations.push(...(it.value.to as A.Text[]));
        decl.except.push(...(it.value.except as A.Text[]));
        break;
      case 'nodeSelector':
        decl.nodeSelector = it.value;
        break;
      case 'nodes':
        decl.nodes.push(...it.value);
        break;
      case 'egressIps':
        decl.egressIps.push(...it.value);
        break;
    }
  }
  return decl;
};

export const rateLimit = (d: D): A.RateLimitDecl => {
  const decl: A.RateLimitDecl = { kind: 'rate', name: d[1], pods: [], span: spanOf(d) };
  for (const it of itemsOf(decl, d[3])) {
    if (it.tag === 'pods') decl.pods.push(...it.value);
    else decl[it.tag as 'ingress' | 'egress' | 'latency' | 'jitter' | 'loss'] = it.value;
  }
  return decl;
};

export const netpolPods = (d: D): A.NetpolPeer => ({
  kind: 'pods',
  podSelector: d[1],
  ...(d[4] ? { namespaceSelector: d[4] } : {}),
  span: spanOf(d),
});
export const netpolNamespaces = (d: D): A.NetpolPeer => ({ kind: 'pods', namespaceSelector: d[1], span: spanOf(d) });
export const netpolIpBlock = (d: D): A.NetpolPeer => ({ kind: 'ipBlock', cidr: d[1], except: toArray(d[2]), span: spanOf(d) });

export const netpolRule = (direction: 'ingress' | 'egress') => (d: D): Item => ({
  tag: direction,
  value: { peers: toArray(d[1]), ports: toArray(d[2]), span: spanOf(d) } satisfies A.NetpolRule,
  span: spanOf(d),
});

export const networkPolicy = (d: D): A.NetworkPolicyDecl => {
  const { namespace, name }: Namespaced = d[1];
  const decl: A.NetworkPolicyDecl = {
    kind: 'networkpolicy',
    namespace,
    name,
    podSelector: { terms: [], span: spanOf([namespace, name]) },
    policyTypes: [],
    ingress: [],
    egress: [],
    span: spanOf(d),
  };
  let types: Token[] | undefined;
  for (const it of itemsOf(decl, d[3])) {
    switch (it.tag) {
      case 'select':
        decl.podSelector = it.value;
        break;
      case 'types':
        types = it.value;
        break;
      case 'ingress':
        decl.ingress.push(it.value);
        break;
      case 'egress':
        decl.egress.push(it.value);
        break;
    }
  }
  // Upstream defaulting: Ingress always, Egress when there are egress rules.
  const written = types ? new Set(types.map((t) => t.text)) : new Set(decl.egress.length ? ['ingress', 'egress'] : ['ingress']);
  if (written.has('ingress')) decl.policyTypes.push('Ingress');
  if (written.has('egress')) decl.policyTypes.push('Egress');
  return decl;
};
