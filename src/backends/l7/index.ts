/**
 * L7 back end: renders (never runs) what a node needs to enforce HTTP and DNS clauses and
 * FQDN destinations: the HAProxy configuration, the dnsmasq configurations, and the node's
 * nft script with the steering to them, in full or, when only pods churn, as element
 * changes. The node agent's edges (src/node/haproxy.ts, src/node/dnsmasq.ts) run them.
 * Kafka clauses stay an error (NI8301): no Kafka proxy.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import type { Ir } from '../../ir/types.js';
import type { Inventory } from '../../inventory/index.js';
import { SelectorResolver } from '../../resolve/index.js';
import { buildNodeRuleset, diffSetElements, nodeHeader, renderElementChanges, renderScript, type NftRuleset } from '../nftables/index.js';
import { renderDnsmasqConfigs, type DnsmasqConfig } from './dnsmasq.js';
import { renderHaproxyConfig, type HaproxyAclFiles } from './haproxy.js';
import { addL7ToRuleset } from './nft.js';
import { fqdnSetName, planNodeL7, type L7Plan } from './plan.js';

export { dnsPatternShape, FQDN_TTL_CAP_S, type DnsPatternShape, type DnsmasqConfig } from './dnsmasq.js';
export { diffHaproxyAcls, haproxyWord, type HaproxyAclChange, type HaproxyAclFiles } from './haproxy.js';
export { pcreDifference } from './regex.js';
export { L7_DOWN_SET, withoutRuntimeElements } from './nft.js';
export { FQDN_TIMEOUT, fqdnSetsOfAnswer, parseDnsmasqReply, renderFqdnRefresh } from './fqdn.js';
export { fqdnSetName, planNodeL7, type L7Plan, type HttpTarget, type DnsInstance } from './plan.js';

export interface NodeL7Output {
  /** The node's whole nft script: the nftables back end's ruleset plus the L7 steering. */
  nftScript: string;
  /** The model `nftScript` renders; the sets filled at run time (@l7_down, the FQDN sets) are empty in it. */
  ruleset: NftRuleset;
  /** Absent when no HTTP rule applies on the node. */
  haproxyConfig?: string;
  /** The source ACL files `haproxyConfig` loads (empty without it): pod churn among HTTP clients changes only these. */
  haproxyAcls: HaproxyAclFiles;
  dnsmasq: DnsmasqConfig[];
  plan: L7Plan;
  diagnostics: Diagnostic[];
}

/**
 * Whether the node needs this back end rather than the plain nftables one: a rule with an
 * HTTP or DNS clause (not `l4-only`), or an FQDN peer (only dnsmasq can fill its sets).
 */
export function needsL7(ir: Ir, inventory: Inventory): boolean {
  const resolver = new SelectorResolver(ir, inventory);
  return ir.rules.some(
    (r) => (r.l7 !== undefined && !r.l4Only && r.l7.http.length + r.l7.dns.length > 0) || resolver.flatMembers([...r.from, ...r.to]).members.some((m) => m.kind === 'fqdn'),
  );
}

export function renderNodeL7(ir: Ir, inventory: Inventory, nodeName: string): NodeL7Output {
  const { ruleset, diagnostics } = buildNodeRuleset(ir, inventory, nodeName, { l7: { fqdnSet: fqdnSetName } });
  const plan = planNodeL7(ir, inventory, nodeName);
  diagnostics.push(...plan.diagnostics, ...addL7ToRuleset(ir, inventory, ruleset, plan));
  const haproxy = plan.http.length ? renderHaproxyConfig(ir, plan) : undefined;
  const dns = renderDnsmasqConfigs(ir, plan);
  diagnostics.push(...(haproxy?.diagnostics ?? []), ...dns.diagnostics);
  return {
    nftScript: renderScript(ruleset, `${nodeHeader(nodeName)}\nWith L7 steering to HAProxy (HTTP) and dnsmasq (DNS, FQDN sets).`),
    ruleset,
    ...(haproxy ? { haproxyConfig: haproxy.config } : {}),
    haproxyAcls: haproxy?.aclFiles ?? {},
    dnsmasq: dns.configs,
    plan,
    diagnostics,
  };
}

/**
 * The change from the node output in force (`applied`) to `next` as set element additions and
 * deletions, when that is all it is: the same proxy configurations (nothing to reload; the
 * HAProxy source ACL files may differ, see `diffHaproxyAcls`) and the same table apart from
 * elements, as when only pods churn. The runtime sets are empty
 * in both models, so the change leaves alone what dnsmasq learnt into the FQDN sets and
 * what the agent closed in @l7_down; a replace would empty them. Undefined: the table has
 * to be replaced and the proxies applied.
 */
export function renderL7ElementUpdate(applied: NodeL7Output, next: NodeL7Output): { kind: 'elements' | 'none'; script: string } | undefined {
  if (applied.haproxyConfig !== next.haproxyConfig || !isDeepStrictEqual(applied.dnsmasq, next.dnsmasq)) return undefined;
  const changes = diffSetElements(applied.ruleset, next.ruleset);
  if (!changes) return undefined;
  const script = renderElementChanges(next.plan.node, changes);
  return { kind: script ? 'elements' : 'none', script };
}
