/**
 * The front-end-neutral AST. The DSL, YAML IntentSet and NetworkPolicy front ends all
 * produce `SourceFile`s of these nodes; names are still unresolved (the `check` stage
 * resolves them and lowers to the IR). Every node carries the span it came from.
 * `let` values and includes are resolved by the DSL front end and do not appear here.
 */
import type { Span } from '../diagnostics/span.js';

export interface Node {
  span: Span;
}

/** A name as written, with its own span (for "unknown name" diagnostics). */
export interface Name extends Node {
  value: string;
}

/** A literal string value with its span (CIDRs, IPs, patterns, label values…). */
export interface Text extends Node {
  value: string;
}

export interface NumberLit extends Node {
  value: number;
}

// ---------------------------------------------------------------- selectors

export type SelectorOp = 'eq' | 'neq' | 'in' | 'notin' | 'exists' | 'notexists';

/** One requirement: `app = web`, `tier in (a, b)`, `has debug`, `!legacy`. */
export interface SelectorTerm extends Node {
  key: Text;
  op: SelectorOp;
  values: Text[];
}

/** AND of terms; no terms = match everything (`all`, `{}`). */
export interface Selector extends Node {
  terms: SelectorTerm[];
}

/** Which namespaces a pods selector looks in. */
export type NamespaceScope =
  | ({ kind: 'names'; names: Name[] } & Node)
  | ({ kind: 'selector'; selector: Selector } & Node)
  | ({ kind: 'tenant'; tenant: Name } & Node);

// ---------------------------------------------------------------- ports and L7

export type Protocol = 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmpv6' | 'any';

/** `tcp/80`, `tcp/8000-8080`, `tcp/http-alt` (named), `udp` (all ports), `icmp type 8 code 0`. */
export interface PortSpec extends Node {
  protocol: Protocol;
  port?: NumberLit;
  endPort?: NumberLit;
  name?: Text;
  icmpType?: NumberLit;
  icmpCode?: NumberLit;
}

export interface HttpHeaderMatch extends Node {
  name: Text;
  /** Absent: the header must be present with any value. */
  value?: Text;
}

export interface HttpMatch extends Node {
  method?: Text;
  /** Regular expression, anchored, matched against the request path. */
  path?: Text;
  host?: Text;
  headers: HttpHeaderMatch[];
}

export interface KafkaMatch extends Node {
  role?: Text; // produce | consume
  apiKey?: Text;
  topic?: Text;
  clientId?: Text;
}

export interface DnsMatch extends Node {
  matchName?: Text;
  matchPattern?: Text;
}

export interface L7Clause extends Node {
  http: HttpMatch[];
  kafka: KafkaMatch[];
  dns: DnsMatch[];
}

// ---------------------------------------------------------------- declarations

export type Isolation = 'strict' | 'default' | 'none';

export interface Rate extends Node {
  /** Bits per second. */
  bps: number;
  text: string;
}

/** A duration, in microseconds. */
export interface Duration extends Node {
  us: number;
  text: string;
}

export interface Percent extends Node {
  value: number;
  text: string;
}

/** An address range written as a CIDR, a single IP or FIRST-LAST. */
export interface AddressRange extends Node {
  text: string;
  kind: 'cidr' | 'ip' | 'range';
}

export interface TenantDecl extends Node {
  kind: 'tenant';
  name: Name;
  namespaces: NamespaceScope; // 'names' or 'selector' (never 'tenant')
  isolation: Isolation;
  pools: AddressRange[];
  ingressCap?: Rate;
  egressCap?: Rate;
  /** Secondary networks (Multus attachment names) that belong to this tenant. */
  networks: Name[];
  /** Pods of this tenant may use hostNetwork/hostPort/NET_ADMIN/NET_RAW. */
  allowHostAccess: boolean;
}

export type GroupMember =
  | ({ kind: 'pods'; selector: Selector; scope?: NamespaceScope; network?: Name; cluster?: Name } & Node)
  | ({ kind: 'cidr'; cidr: Text; except: Text[] } & Node)
  | ({ kind: 'fqdn'; pattern: Text } & Node)
  | ({ kind: 'service'; namespace: Name; name: Name; cluster?: Name } & Node)
  | ({ kind: 'group'; name: Name } & Node);

export interface GroupDecl extends Node {
  kind: 'group';
  name: Name;
  members: GroupMember[];
}

/** A rule endpoint: named groups, `any`, or members written inline. Several = union. */
export type Peer =
  | ({ kind: 'any' } & Node)
  | ({ kind: 'group'; name: Name } & Node)
  | ({ kind: 'inline'; member: GroupMember } & Node);

export type Action = 'allow' | 'deny' | 'reject' | 'pass';
export type Tier = 'admin' | 'tenant' | 'application' | 'baseline';
export const TIERS: readonly Tier[] = ['admin', 'tenant', 'application', 'baseline'];

export interface RuleDecl extends Node {
  action: Action;
  from: Peer[];
  to: Peer[];
  /** Empty: all ports and protocols. */
  ports: PortSpec[];
  log: boolean;
  l7?: L7Clause;
  /** Explicitly accepted port-level enforcement of a Kafka clause. */
  l4Only: boolean;
}

export interface PolicyDecl extends Node {
  kind: 'policy';
  name: Name;
  tier: Tier;
  priority: NumberLit;
  rules: RuleDecl[];
}

/** `fixed-ip pod ns/name 10.0.0.5` (one IP per family). */
export interface FixedIpDecl extends Node {
  kind: 'fixed-ip';
  namespace: Name;
  pod: Name;
  ips: Text[];
}

export type WorkloadKind = 'Deployment' | 'StatefulSet';

/** `pool NAME deployment|statefulset ns/name RANGES [reserve IPS]`. */
export interface PoolDecl extends Node {
  kind: 'pool';
  name: Name;
  workload: { kind: WorkloadKind; namespace: Name; name: Name } & Node;
  ranges: AddressRange[];
  reserved: Text[];
}

export interface EgressGatewayDecl extends Node {
  kind: 'egress-gateway';
  name: Name;
  /** Pods whose traffic leaves through the gateway. */
  pods: Peer[];
  destinations: Text[];
  except: Text[];
  /** Gateway nodes: a node label selector and/or an ordered failover list. */
  nodeSelector?: Selector;
  nodes: Name[];
  egressIps: Text[];
}

export interface RateLimitDecl extends Node {
  kind: 'rate';
  name: Name;
  pods: Peer[];
  ingress?: Rate;
  egress?: Rate;
  latency?: Duration;
  jitter?: Duration;
  loss?: Percent;
}

export interface ClusterDecl extends Node {
  kind: 'cluster';
  name: Name;
  podCidrs: Text[];
  serviceCidrs: Text[];
}

// ---------------------------------------------------------------- NetworkPolicy (exact upstream model)

export type NetpolPeer =
  | ({ kind: 'pods'; podSelector?: Selector; namespaceSelector?: Selector } & Node)
  | ({ kind: 'ipBlock'; cidr: Text; except: Text[] } & Node);

export interface NetpolRule extends Node {
  /** Absent or empty upstream list: all peers. Kept as written; `check` normalises. */
  peers: NetpolPeer[];
  /** Empty: all ports. */
  ports: PortSpec[];
}

export interface NetworkPolicyDecl extends Node {
  kind: 'networkpolicy';
  namespace: Name;
  name: Name;
  podSelector: Selector;
  /** After upstream defaulting (Ingress always; Egress when egress rules exist). */
  policyTypes: ('Ingress' | 'Egress')[];
  ingress: NetpolRule[];
  egress: NetpolRule[];
}

export type Decl =
  | TenantDecl
  | GroupDecl
  | PolicyDecl
  | FixedIpDecl
  | PoolDecl
  | EgressGatewayDecl
  | RateLimitDecl
  | ClusterDecl
  | NetworkPolicyDecl;

export interface SourceFile {
  file: string;
  format: 'dsl' | 'yaml' | 'netpol';
  decls: Decl[];
}
