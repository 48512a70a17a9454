/**
 * The IR: canonical, versioned, target-neutral. Described by schemas/ir.schema.json.
 * Names are resolved, addresses canonical (ipaddr.js normal form, CIDRs with host bits
 * cleared), every list sorted. Element ids are stable and derived from names, never from
 * counters or file positions; source spans live apart in `sources` so that the DSL and
 * YAML forms of the same intents give the same IR apart from that table.
 */

export const IR_VERSION = 'netintent.dev/ir/v1alpha1';

export type IrSelectorOp = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

/** Kubernetes label-selector semantics: AND of requirements; [] matches everything. */
export interface IrRequirement {
  key: string;
  op: IrSelectorOp;
  /** Sorted, unique; empty for Exists/DoesNotExist. */
  values: string[];
}
export type IrSelector = IrRequirement[];

export type IrNamespaceScope =
  | { kind: 'all' }
  | { kind: 'names'; names: string[] }
  | { kind: 'selector'; selector: IrSelector }
  /** Namespaces owned by the tenant. */
  | { kind: 'tenant'; tenant: string }
  /** Namespaces NOT owned by the tenant (used by generated isolation rules). */
  | { kind: 'notTenant'; tenant: string };

export type IrMember =
  | {
      kind: 'pods';
      scope: IrNamespaceScope;
      selector: IrSelector;
      /** Secondary network name: match the pods' IPs on that network only. Absent: primary. */
      network?: string;
      /** Cluster name for peers in another cluster. Absent: the local cluster. */
      cluster?: string;
    }
  | { kind: 'cidr'; cidr: string; except: string[] }
  | { kind: 'fqdn'; pattern: string }
  | { kind: 'service'; namespace: string; name: string; cluster?: string }
  | { kind: 'group'; group: string };

/** A set of endpoints: the union of its members. Ids: `group:NAME` or `group:~HASH` (inline). */
export interface IrGroup {
  id: string;
  name: string;
  members: IrMember[];
}

export type IrProtocol = 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmpv6' | 'any';

export interface IrPort {
  protocol: IrProtocol;
  /** Absent with no `name`: all ports of the protocol. */
  port?: number;
  endPort?: number;
  /** Named container port, resolved on the destination pod. */
  name?: string;
  icmpType?: number;
  icmpCode?: number;
}

export interface IrHttpMatch {
  method?: string;
  path?: string;
  host?: string;
  headers: { name: string; value?: string }[];
}
export interface IrKafkaMatch {
  role?: string;
  apiKey?: string;
  topic?: string;
  clientId?: string;
}
export interface IrDnsMatch {
  matchName?: string;
  matchPattern?: string;
}
export interface IrL7 {
  http: IrHttpMatch[];
  kafka: IrKafkaMatch[];
  dns: IrDnsMatch[];
}

export type IrTier = 'admin' | 'tenant' | 'application' | 'baseline';
export type IrAction = 'allow' | 'deny' | 'reject' | 'pass';

/**
 * An ordered rule. Evaluation: tiers admin → tenant → application → baseline; inside a
 * tier rules run in array order (priority, policy name, rule index); the first rule whose
 * from/to/ports match decides: allow/deny/reject end the evaluation, pass skips to the
 * next tier. See src/explain for the reference semantics.
 */
export interface IrRule {
  /** `rule:POLICY/INDEX` (index = position in the policy, from 0) or `rule:~isolation/...`. */
  id: string;
  policy: string;
  tier: IrTier;
  priority: number;
  index: number;
  action: IrAction;
  /** Group ids (union). The built-in group `group:any` matches every address. */
  from: string[];
  to: string[];
  /** Empty: all traffic. */
  ports: IrPort[];
  log: boolean;
  l7?: IrL7;
  l4Only?: boolean;
  origin: 'intent' | 'tenant-isolation';
}

/**
 * Upstream peer, normalised: a namespaceSelector without podSelector gets podSelector []
 * (all pods), which is the same set of pods.
 */
export type IrNetpolPeer =
  | {
      kind: 'pods';
      /** Absent: the policy's own namespace (upstream semantics). */
      namespaceSelector?: IrSelector;
      podSelector: IrSelector;
    }
  | { kind: 'ipBlock'; cidr: string; except: string[] };

export interface IrNetpolRule {
  /** null: all peers (upstream `from`/`to` absent or empty). */
  peers: IrNetpolPeer[] | null;
  /** null: all ports. */
  ports: IrPort[] | null;
}

/** A Kubernetes NetworkPolicy, defaulted and normalised, with upstream semantics. */
export interface IrNetworkPolicy {
  id: string; // np:NAMESPACE/NAME
  namespace: string;
  name: string;
  podSelector: IrSelector;
  policyTypes: ('Ingress' | 'Egress')[];
  ingress: IrNetpolRule[];
  egress: IrNetpolRule[];
}

export interface IrTenant {
  id: string; // tenant:NAME
  name: string;
  namespaces: { kind: 'names'; names: string[] } | { kind: 'selector'; selector: IrSelector };
  isolation: 'strict' | 'default' | 'none';
  /** Pool ids of the tenant's own address pools. */
  pools: string[];
  ingressCap?: number;
  egressCap?: number;
  networks: string[];
  allowHostAccess: boolean;
}

/** Inclusive address range, canonical text of both ends. */
export interface IrRange {
  first: string;
  last: string;
}

export interface IrPool {
  id: string; // pool:NAME (tenant pools: pool:tenant/NAME/N)
  name: string;
  family: 4 | 6;
  ranges: IrRange[];
  reserved: string[];
  tenant?: string;
  /** Absent for tenant pools. StatefulSet pools are ordinal-sticky: pod N gets address N. */
  workload?: { kind: 'Deployment' | 'StatefulSet'; namespace: string; name: string };
  size: number;
}

export interface IrFixedIp {
  id: string; // fixed:NAMESPACE/POD
  namespace: string;
  pod: string;
  ips: string[];
  tenant?: string;
}

export interface IrEgressGateway {
  id: string; // egress:NAME
  name: string;
  pods: string[]; // group ids
  destinations: string[];
  except: string[];
  nodeSelector?: IrSelector;
  nodes: string[]; // ordered failover list
  egressIps: string[];
}

export interface IrRateLimit {
  id: string; // rate:NAME
  name: string;
  pods: string[]; // group ids
  ingressBps?: number;
  egressBps?: number;
  latencyUs?: number;
  jitterUs?: number;
  lossPercent?: number;
}

export interface IrCluster {
  id: string; // cluster:NAME
  name: string;
  podCidrs: string[];
  serviceCidrs: string[];
}

export interface IrSourceRef {
  file: string;
  line: number;
  col: number;
  endLine: number;
  endCol: number;
}

export interface Ir {
  version: typeof IR_VERSION;
  clusters: IrCluster[];
  tenants: IrTenant[];
  groups: IrGroup[];
  rules: IrRule[];
  networkPolicies: IrNetworkPolicy[];
  pools: IrPool[];
  fixedIps: IrFixedIp[];
  egressGateways: IrEgressGateway[];
  rateLimits: IrRateLimit[];
  /** Element id → where it was written (several when merged). Kept apart from the meaning. */
  sources: Record<string, IrSourceRef[]>;
}

export const ANY_GROUP_ID = 'group:any';
