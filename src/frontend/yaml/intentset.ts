/**
 * IntentSet (netintent.dev/v1alpha1) documents → AST declarations. The document has
 * already passed the JSON Schema, so shapes are trusted here; this stage converts values
 * (ports, rates, durations) and checks what the schema cannot say.
 */
import { isMap, isScalar, isSeq, type Node as YamlNode, type YAMLMap } from 'yaml';
import type {
  AddressRange,
  ClusterDecl,
  Decl,
  DnsMatch,
  Duration,
  EgressGatewayDecl,
  FixedIpDecl,
  GroupDecl,
  GroupMember,
  HttpMatch,
  Isolation,
  KafkaMatch,
  L7Clause,
  Name,
  NamespaceScope,
  NumberLit,
  Peer,
  Percent,
  PolicyDecl,
  PoolDecl,
  PortSpec,
  Protocol,
  Rate,
  RateLimitDecl,
  RuleDecl,
  Selector,
  TenantDecl,
  Text,
  Tier,
  WorkloadKind,
} from '../../ast/index.js';
import { diag, type Diagnostic } from '../../diagnostics/diagnostic.js';
import type { Span } from '../../diagnostics/span.js';
import { labelSelector, type YamlDoc } from './nodes.js';
import { parseDuration, parsePercent, parseRate } from './units.js';

const DEFAULT_PRIORITY = 1000;
const PORT_STRING = /^\s*(tcp|udp|sctp)(?:\/(?:(\d+)(?:-(\d+))?|([a-z0-9-]+)))?\s*$/;
const ICMP_STRING = /^\s*(icmp|icmpv6)(?:\s+type\s+(\d+)(?:\s+code\s+(\d+))?)?\s*$/;

class IntentSetReader {
  constructor(
    private readonly y: YamlDoc,
    private readonly report: (d: Diagnostic) => void,
  ) {}

  decls(root: YAMLMap): Decl[] {
    const spec = this.y.field(root, 'spec');
    if (!isMap(spec)) return [];
    const list = (key: string) => this.y.items(this.y.field(spec, key)).filter(isMap);
    return [
      ...list('clusters').map((n) => this.cluster(n)),
      ...list('tenants').map((n) => this.tenant(n)),
      ...list('groups').map((n) => this.group(n)),
      ...list('policies').map((n) => this.policy(n)),
      ...list('fixedIPs').map((n) => this.fixedIp(n)),
      ...list('pools').map((n) => this.pool(n)),
      ...list('egressGateways').map((n) => this.egressGateway(n)),
      ...list('rateLimits').map((n) => this.rateLimit(n)),
    ];
  }

  // ------------------------------------------------------------ small readers

  private text(map: YAMLMap, key: string): Text | undefined {
    const node = this.y.field(map, key);
    return node ? this.y.text(node) : undefined;
  }

  /** Schema-required string fields; the fallback only guards against a schema bug. */
  private required(map: YAMLMap, key: string): Name {
    return this.text(map, key) ?? { value: '', span: this.y.span(map) };
  }

  private texts(map: YAMLMap, key: string): Text[] {
    return this.y.items(this.y.field(map, key)).map((n) => this.y.text(n));
  }

  private flag(map: YAMLMap, key: string): boolean {
    const node = this.y.field(map, key);
    return isScalar(node) && node.value === true;
  }

  private selector(node: YamlNode | undefined, owner: YamlNode): Selector {
    return labelSelector(this.y, node, false, this.report, this.y.span(owner));
  }

  /** The span from a key to the end of its value: `namespaces: [a, b]`. */
  private entrySpan(map: YAMLMap, key: string): Span {
    const entry = this.y.entry(map, key);
    return entry ? this.y.span(entry.pair) : this.y.span(map);
  }

  private range(node: YamlNode): AddressRange {
    const { value: text, span } = this.y.text(node);
    const kind = text.includes('/') ? 'cidr' : text.includes('-') ? 'range' : 'ip';
    return { text, kind, span };
  }

  private ranges(map: YAMLMap, key: string): AddressRange[] {
    return this.y.items(this.y.field(map, key)).map((n) => this.range(n));
  }

  // ------------------------------------------------------------ declarations

  private cluster(map: YAMLMap): ClusterDecl {
    return {
      kind: 'cluster',
      name: this.required(map, 'name'),
      podCidrs: this.texts(map, 'podCIDRs'),
      serviceCidrs: this.texts(map, 'serviceCIDRs'),
      span: this.y.span(map),
    };
  }

  private tenant(map: YAMLMap): TenantDecl {
    const ingressCap = this.rate(map, 'ingressCap');
    const egressCap = this.rate(map, 'egressCap');
    const isolation = this.text(map, 'isolation');
    return {
      kind: 'tenant',
      name: this.required(map, 'name'),
      namespaces: this.scope(map) ?? { kind: 'names', names: [], span: this.y.span(map) },
      isolation: (isolation?.value as Isolation | undefined) ?? 'default',
      pools: this.ranges(map, 'pools'),
      ...(ingressCap ? { ingressCap } : {}),
      ...(egressCap ? { egressCap } : {}),
      networks: this.texts(map, 'networks'),
      allowHostAccess: this.flag(map, 'allowHostAccess'),
      span: this.y.span(map),
    };
  }

  /** `namespaces: [..]`, `namespaceSelector: {..}` or `tenant: x`, whichever is present. */
  private scope(map: YAMLMap): NamespaceScope | undefined {
    const selector = this.y.field(map, 'namespaceSelector');
    if (this.y.entry(map, 'namespaces')) return { kind: 'names', names: this.texts(map, 'namespaces'), span: this.entrySpan(map, 'namespaces') };
    if (selector) return { kind: 'selector', selector: this.selector(selector, map), span: this.entrySpan(map, 'namespaceSelector') };
    const tenant = this.text(map, 'tenant');
    if (tenant) return { kind: 'tenant', tenant, span: this.entrySpan(map, 'tenant') };
    return undefined;
  }

  private group(map: YAMLMap): GroupDecl {
    return {
      kind: 'group',
      name: this.required(map, 'name'),
      members: this.y.items(this.y.field(map, 'members')).filter(isMap).map((m) => this.member(m)),
      span: this.y.span(map),
    };
  }

  private member(map: YAMLMap): GroupMember {
    const span = this.y.span(map);
    const cluster = this.text(map, 'cluster');
    const inCluster = cluster ? { cluster } : {};
    if (this.y.entry(map, 'pods')) {
      const scope = this.scope(map);
      const network = this.text(map, 'network');
      return {
        kind: 'pods',
        selector: this.selector(this.y.field(map, 'pods'), map),
        ...(scope ? { scope } : {}),
        ...(network ? { network } : {}),
        ...inCluster,
        span,
      };
    }
    const cidr = this.text(map, 'cidr');
    if (cidr) return { kind: 'cidr', cidr, except: this.texts(map, 'except'), span };
    const fqdn = this.text(map, 'fqdn');
    if (fqdn) return { kind: 'fqdn', pattern: fqdn, span };
    const service = this.y.field(map, 'service');
    if (isMap(service)) return { kind: 'service', namespace: this.required(service, 'namespace'), name: this.required(service, 'name'), ...inCluster, span };
    return { kind: 'group', name: this.required(map, 'group'), span };
  }

  private peers(node: YamlNode | undefined): Peer[] {
    const items = isSeq(node) ? this.y.items(node) : node ? [node] : [];
    return items.map((item): Peer => {
      const span = this.y.span(item);
      if (isMap(item)) return { kind: 'inline', member: this.member(item), span };
      const name = this.y.text(item);
      return name.value === 'any' ? { kind: 'any', span } : { kind: 'group', name, span };
    });
  }

  private policy(map: YAMLMap): PolicyDecl {
    const tier = this.text(map, 'tier');
    const priorityNode = this.y.field(map, 'priority');
    const priority: NumberLit =
      isScalar(priorityNode) && typeof priorityNode.value === 'number'
        ? { value: priorityNode.value, span: this.y.span(priorityNode) }
        : { value: DEFAULT_PRIORITY, span: this.y.span(map) };
    return {
      kind: 'policy',
      name: this.required(map, 'name'),
      tier: (tier?.value as Tier | undefined) ?? 'application',
      priority,
      rules: this.y.items(this.y.field(map, 'rules')).filter(isMap).map((r) => this.rule(r)),
      span: this.y.span(map),
    };
  }

  private rule(map: YAMLMap): RuleDecl {
    const l7 = this.l7(map);
    return {
      action: this.required(map, 'action').value as RuleDecl['action'],
      from: this.peers(this.y.field(map, 'from')),
      to: this.peers(this.y.field(map, 'to')),
      ports: this.y.items(this.y.field(map, 'ports')).flatMap((p) => this.port(p) ?? []),
      log: this.flag(map, 'log'),
      ...(l7 ? { l7 } : {}),
      l4Only: this.flag(map, 'l4Only'),
      span: this.y.span(map),
    };
  }

  private l7(map: YAMLMap): L7Clause | undefined {
    const entries = this.y.entries(map).filter((e) => ['http', 'kafka', 'dns'].includes(e.key));
    if (entries.length === 0) return undefined;
    const first = this.y.span(entries[0]!.pair);
    const last = this.y.span(entries[entries.length - 1]!.pair);
    const matches = (key: string) => this.y.items(this.y.field(map, key)).filter(isMap);
    return {
      http: matches('http').map((m) => this.http(m)),
      kafka: matches('kafka').map((m) => this.kafka(m)),
      dns: matches('dns').map((m) => this.dns(m)),
      span: { file: first.file, start: first.start, end: last.end },
    };
  }

  private http(map: YAMLMap): HttpMatch {
    const method = this.text(map, 'method');
    const path = this.text(map, 'path');
    const host = this.text(map, 'host');
    return {
      ...(method ? { method } : {}),
      ...(path ? { path } : {}),
      ...(host ? { host } : {}),
      headers: this.y.items(this.y.field(map, 'headers')).filter(isMap).map((h) => {
        const value = this.text(h, 'value');
        return { name: this.required(h, 'name'), ...(value ? { value } : {}), span: this.y.span(h) };
      }),
      span: this.y.span(map),
    };
  }

  private kafka(map: YAMLMap): KafkaMatch {
    const out: KafkaMatch = { span: this.y.span(map) };
    for (const key of ['role', 'apiKey', 'topic', 'clientId'] as const) {
      const text = this.text(map, key);
      if (text) out[key] = text;
    }
    return out;
  }

  private dns(map: YAMLMap): DnsMatch {
    const matchName = this.text(map, 'matchName');
    const matchPattern = this.text(map, 'matchPattern');
    return { ...(matchName ? { matchName } : {}), ...(matchPattern ? { matchPattern } : {}), span: this.y.span(map) };
  }

  // ------------------------------------------------------------ ports

  private port(node: YamlNode): PortSpec | undefined {
    return isMap(node) ? this.portObject(node) : this.portString(this.y.text(node));
  }

  private portString({ value, span }: Text): PortSpec | undefined {
    const number = (digits: string | undefined): NumberLit | undefined => (digits === undefined ? undefined : { value: Number(digits), span });
    const l4 = PORT_STRING.exec(value);
    if (l4) {
      const port = number(l4[2]);
      const endPort = number(l4[3]);
      const name = l4[4] !== undefined ? { value: l4[4], span } : undefined;
      if (!this.portNumbersValid(value, span, port, endPort)) return undefined;
      return { protocol: l4[1] as Protocol, ...(port ? { port } : {}), ...(endPort ? { endPort } : {}), ...(name ? { name } : {}), span };
    }
    const icmp = ICMP_STRING.exec(value);
    if (icmp) {
      const icmpType = number(icmp[2]);
      const icmpCode = number(icmp[3]);
      if (!this.icmpValid(value, span, icmpType, icmpCode)) return undefined;
      return { protocol: icmp[1] as Protocol, ...(icmpType ? { icmpType } : {}), ...(icmpCode ? { icmpCode } : {}), span };
    }
    // The schema pattern admits only the two forms above.
    this.report(diag('NI1102', span, [`invalid port "${value}"`]));
    return undefined;
  }

  private portObject(map: YAMLMap): PortSpec | undefined {
    const span = this.y.span(map);
    const protocol = (this.text(map, 'protocol')?.value.toLowerCase() ?? 'tcp') as Protocol;
    const number = (key: string): NumberLit | undefined => {
      const node = this.y.field(map, key);
      return isScalar(node) && typeof node.value === 'number' ? { value: node.value, span: this.y.span(node) } : undefined;
    };
    const port = number('port');
    const endPort = number('endPort');
    const icmpType = number('icmpType');
    const icmpCode = number('icmpCode');
    const name = this.text(map, 'name');
    const isIcmp = protocol === 'icmp' || protocol === 'icmpv6';
    if (port && name) return this.invalidPort(span, 'a port has either "port" (a number) or "name" (a named port), not both');
    if (isIcmp && (port || name)) return this.invalidPort(span, `${protocol} has no ports; use icmpType and icmpCode`);
    if (!isIcmp && icmpType) return this.invalidPort(span, `icmpType needs protocol icmp or icmpv6, not ${protocol}`);
    const text = port ? `${protocol}/${port.value}${endPort ? `-${endPort.value}` : ''}` : protocol;
    if (!this.portNumbersValid(text, span, port, endPort)) return undefined;
    return {
      protocol,
      ...(port ? { port } : {}),
      ...(endPort ? { endPort } : {}),
      ...(name ? { name } : {}),
      ...(icmpType ? { icmpType } : {}),
      ...(icmpCode ? { icmpCode } : {}),
      span,
    };
  }

  private invalidPort(span: Span, message: string): undefined {
    this.report(diag('NI1102', span, [message]));
    return undefined;
  }

  private portNumbersValid(text: string, span: Span, port?: NumberLit, endPort?: NumberLit): boolean {
    const outOfRange = [port, endPort].some((p) => p !== undefined && (p.value < 1 || p.value > 65535));
    if (outOfRange) this.report(diag('NI4001', span, [text, 'ports are 1-65535']));
    else if (port && endPort && endPort.value < port.value) this.report(diag('NI4001', span, [text, 'the range ends before it starts']));
    else return true;
    return false;
  }

  private icmpValid(text: string, span: Span, icmpType?: NumberLit, icmpCode?: NumberLit): boolean {
    if ([icmpType, icmpCode].some((n) => n !== undefined && n.value > 255)) {
      this.report(diag('NI4006', span, [text]));
      return false;
    }
    return true;
  }

  // ------------------------------------------------------------ IP management, gateways, rates

  private fixedIp(map: YAMLMap): FixedIpDecl {
    return { kind: 'fixed-ip', namespace: this.required(map, 'namespace'), pod: this.required(map, 'pod'), ips: this.texts(map, 'ips'), span: this.y.span(map) };
  }

  private pool(map: YAMLMap): PoolDecl {
    const workload = this.y.field(map, 'workload');
    const w = isMap(workload) ? workload : map;
    return {
      kind: 'pool',
      name: this.required(map, 'name'),
      workload: { kind: this.required(w, 'kind').value as WorkloadKind, namespace: this.required(w, 'namespace'), name: this.required(w, 'name'), span: this.y.span(w) },
      ranges: this.ranges(map, 'ranges'),
      reserved: this.texts(map, 'reserved'),
      span: this.y.span(map),
    };
  }

  private egressGateway(map: YAMLMap): EgressGatewayDecl {
    const nodeSelector = this.y.field(map, 'nodeSelector');
    return {
      kind: 'egress-gateway',
      name: this.required(map, 'name'),
      pods: this.peers(this.y.field(map, 'pods')),
      destinations: this.texts(map, 'destinations'),
      except: this.texts(map, 'except'),
      ...(nodeSelector ? { nodeSelector: this.selector(nodeSelector, map) } : {}),
      nodes: this.texts(map, 'nodes'),
      egressIps: this.texts(map, 'egressIPs'),
      span: this.y.span(map),
    };
  }

  private rateLimit(map: YAMLMap): RateLimitDecl {
    const ingress = this.rate(map, 'ingress');
    const egress = this.rate(map, 'egress');
    const latency = this.duration(map, 'latency');
    const jitter = this.duration(map, 'jitter');
    const loss = this.percent(map, 'loss');
    return {
      kind: 'rate',
      name: this.required(map, 'name'),
      pods: this.peers(this.y.field(map, 'pods')),
      ...(ingress ? { ingress } : {}),
      ...(egress ? { egress } : {}),
      ...(latency ? { latency } : {}),
      ...(jitter ? { jitter } : {}),
      ...(loss ? { loss } : {}),
      span: this.y.span(map),
    };
  }

  private scalar(map: YAMLMap, key: string): { raw: string | number; text: string; span: Span } | undefined {
    const node = this.y.field(map, key);
    if (!isScalar(node) || (typeof node.value !== 'string' && typeof node.value !== 'number')) return undefined;
    return { raw: node.value, text: String(node.value), span: this.y.span(node) };
  }

  private rate(map: YAMLMap, key: string): Rate | undefined {
    const v = this.scalar(map, key);
    if (!v) return undefined;
    const parsed = parseRate(v.raw);
    if (parsed.ok) return { bps: parsed.value, text: v.text, span: v.span };
    this.report(diag('NI4004', v.span, [v.text, parsed.reason]));
    return undefined;
  }

  private duration(map: YAMLMap, key: string): Duration | undefined {
    const v = this.scalar(map, key);
    if (!v) return undefined;
    const parsed = parseDuration(v.text);
    if (parsed.ok) return { us: parsed.value, text: v.text, span: v.span };
    this.report(diag('NI4005', v.span, [key, v.text, parsed.reason]));
    return undefined;
  }

  private percent(map: YAMLMap, key: string): Percent | undefined {
    const v = this.scalar(map, key);
    if (!v) return undefined;
    const parsed = parsePercent(v.raw);
    if (parsed.ok) return { value: parsed.value, text: v.text, span: v.span };
    this.report(diag('NI4005', v.span, [key, v.text, parsed.reason]));
    return undefined;
  }
}

/** Declarations of one schema-valid IntentSet document. */
export function intentSetDecls(y: YamlDoc, root: YAMLMap, report: (d: Diagnostic) => void): Decl[] {
  return new IntentSetReader(y, report).decls(root);
}
