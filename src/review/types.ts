/** The pull-request review model: what changed between two versions of the intents. */
import type { Verdict } from '../explain/index.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Ir } from '../ir/types.js';

export const DIFF_REPORT_VERSION = 'netintent.dev/diff/v1';

/** One side of the diff: what `compileTexts`/`compileFiles` returned (no IR when it failed). */
export interface DiffInput {
  ir?: Ir;
  diagnostics: readonly Diagnostic[];
}

export interface RuleView {
  id: string;
  policy: string;
  tier: string;
  priority: number;
  action: string;
  from: string[];
  to: string[];
  ports: string[];
  /** `file:line` */
  source?: string;
}

export interface RuleChange {
  id: string;
  /** Changed fields among action, ports, from, to, tier, priority, log, l7, l4Only. */
  fields: string[];
  before: RuleView;
  after: RuleView;
}

/** An added, removed or changed element (tenant, group, pool, fixed IP, rate limit, egress gateway). */
export interface ElementChange {
  id: string;
  change: 'added' | 'removed' | 'changed';
  /** Changed top-level fields (empty for added/removed). */
  fields: string[];
  before?: unknown;
  after?: unknown;
  source?: string;
}

export interface EndpointRef {
  label: string;
  kind: 'group' | 'namespace' | 'external' | 'any';
  tenant?: string;
}

export interface DeciderRef {
  id: string;
  source?: string;
}

/** One summarised connectivity change: every pod pair it stands for changed the same way. */
export interface ConnectionChange {
  /** Tenant the line is filed under (the destination's, else the source's; "" for none). */
  tenant: string;
  from: EndpointRef;
  to: EndpointRef;
  port: string;
  before: Verdict;
  after: Verdict;
  /** Rule (or NetworkPolicies, or `default`) that decided before and after. */
  beforeBy: DeciderRef;
  afterBy: DeciderRef;
  /** Pod pairs summarised (0 at group level). */
  podPairs: number;
}

export interface DiagnosticView {
  code: string;
  severity: string;
  message: string;
  file?: string;
  line?: number;
}

export interface DiffSummary {
  rulesAdded: number;
  rulesRemoved: number;
  rulesChanged: number;
  connectionsOpened: number;
  connectionsClosed: number;
  connectionsChanged: number;
  tenants: number;
  groups: number;
  pools: number;
  fixedIps: number;
  rateLimits: number;
  egressGateways: number;
  networkPolicies: number;
  diagnosticsNew: number;
  diagnosticsResolved: number;
  /** Sum of every count above except the connection detail counts. */
  total: number;
}

export interface DiffReport {
  version: typeof DIFF_REPORT_VERSION;
  /** `groups`: synthetic representative per group (no inventory); `pods`: the inventory's pods. */
  level: 'groups' | 'pods';
  summary: DiffSummary;
  rules: { added: RuleView[]; removed: RuleView[]; changed: RuleChange[] };
  connectivity: ConnectionChange[];
  tenants: ElementChange[];
  groups: ElementChange[];
  pools: ElementChange[];
  fixedIps: ElementChange[];
  rateLimits: ElementChange[];
  egressGateways: ElementChange[];
  networkPolicies: ElementChange[];
  diagnostics: { new: DiagnosticView[]; resolved: DiagnosticView[] };
  notes: string[];
}
