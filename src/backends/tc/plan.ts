/**
 * IR + inventory → the shaping plan of one node: per local pod, the rates to and from it
 * (rate intents, bandwidth annotations, tenant caps as upper bounds) and netem settings.
 * Pure; the host-side interface of each pod is found later by the agent.
 */
import { diag, type Diagnostic } from '../../diagnostics/diagnostic.js';
import type { Ir, IrRateLimit } from '../../ir/types.js';
import type { Inventory, InventoryPod } from '../../inventory/index.js';
import { tenantOfNamespace } from '../../ir/selector.js';
import { SelectorResolver, setContains } from '../../resolve/index.js';
import { parseQuantity } from './quantity.js';

const INGRESS_ANNOTATION = 'kubernetes.io/ingress-bandwidth';
const EGRESS_ANNOTATION = 'kubernetes.io/egress-bandwidth';

export interface Netem {
  latencyUs?: number;
  jitterUs?: number;
  lossPercent?: number;
}

export interface PodShaping {
  /** `namespace/name`. */
  pod: string;
  /** Primary-network IPs: the host-side interface is found from the route to the first one. */
  ips: string[];
  /** Traffic to the pod (shaped on the host-side veth's egress), bits/s. */
  ingressBps?: number;
  /** Traffic from the pod (host-side veth ingress redirected to an ifb), bits/s. */
  egressBps?: number;
  /** Applied to traffic from the pod, with its egress rate. */
  netem?: Netem;
  /** What set the figures (rate ids, annotations, tenant caps), for comments and logs. */
  reasons: string[];
}

export interface TcPlan {
  node: string;
  /** Sorted by pod key. */
  pods: PodShaping[];
}

const minDefined = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
const maxDefined = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined ? b : b === undefined ? a : Math.max(a, b));

function netemOf(limits: readonly IrRateLimit[]): Netem | undefined {
  let n: Netem = {};
  // Several netem intents on one pod: the worst link wins (it is a test of resilience).
  for (const r of limits) {
    const latencyUs = maxDefined(n.latencyUs, r.latencyUs);
    const jitterUs = maxDefined(n.jitterUs, r.jitterUs);
    const lossPercent = maxDefined(n.lossPercent, r.lossPercent);
    n = { ...(latencyUs !== undefined ? { latencyUs } : {}), ...(jitterUs !== undefined ? { jitterUs } : {}), ...(lossPercent !== undefined ? { lossPercent } : {}) };
  }
  return Object.keys(n).length ? n : undefined;
}

export function renderTcPlan(ir: Ir, inventory: Inventory, node: string): { plan: TcPlan; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const resolver = new SelectorResolver(ir, inventory);
  const selects = ir.rateLimits.map((r) => ({ rate: r, set: resolver.groupUnion(r.pods) }));
  const namespaces = new Map(inventory.namespaces.map((n) => [n.name, n]));
  const pods: PodShaping[] = [];
  for (const pod of inventory.pods) {
    if (pod.nodeName !== node || pod.hostNetwork || pod.ips.length === 0) continue;
    const shaping = podShaping(pod, selects.filter((s) => pod.ips.some((ip) => setContains(s.set, ip))).map((s) => s.rate), diagnostics);
    const ns = namespaces.get(pod.namespace);
    const tenant = ns ? tenantOfNamespace(ir, ns) : undefined;
    if (tenant && (tenant.ingressCap !== undefined || tenant.egressCap !== undefined)) {
      const ingressBps = minDefined(shaping.ingressBps, tenant.ingressCap);
      const egressBps = minDefined(shaping.egressBps, tenant.egressCap);
      if (ingressBps !== shaping.ingressBps || egressBps !== shaping.egressBps) shaping.reasons.push(`cap of tenant ${tenant.name}`);
      if (ingressBps !== undefined) shaping.ingressBps = ingressBps;
      if (egressBps !== undefined) shaping.egressBps = egressBps;
    }
    if (shaping.ingressBps !== undefined || shaping.egressBps !== undefined || shaping.netem) pods.push(shaping);
  }
  pods.sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0));
  return { plan: { node, pods }, diagnostics };
}

function podShaping(pod: InventoryPod, limits: IrRateLimit[], diagnostics: Diagnostic[]): PodShaping {
  const key = `${pod.namespace}/${pod.name}`;
  const shaping: PodShaping = { pod: key, ips: pod.ips, reasons: limits.map((r) => r.id) };
  for (const r of limits) {
    const ingressBps = minDefined(shaping.ingressBps, r.ingressBps);
    const egressBps = minDefined(shaping.egressBps, r.egressBps);
    if (ingressBps !== undefined) shaping.ingressBps = ingressBps;
    if (egressBps !== undefined) shaping.egressBps = egressBps;
  }
  for (const [annotation, dir] of [
    [INGRESS_ANNOTATION, 'ingressBps'],
    [EGRESS_ANNOTATION, 'egressBps'],
  ] as const) {
    const text = pod.annotations[annotation];
    if (text === undefined) continue;
    const bps = parseQuantity(text);
    if (bps === undefined || bps <= 0) {
      diagnostics.push(diag('NI8201', undefined, [key, annotation, text]));
      continue;
    }
    // The lower of the intent and the annotation: neither can raise the other.
    shaping[dir] = minDefined(shaping[dir], bps);
    shaping.reasons.push(annotation);
  }
  const netem = netemOf(limits);
  if (netem) shaping.netem = netem;
  return shaping;
}
