/**
 * Shadowed-rule warnings: a rule that an earlier rule of the same tier always matches
 * first can never decide anything. Syntactic and conservative (group ids, `any`, port
 * containment), bucketed by (from, to) so that 10,000 rules stay cheap.
 */
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Span } from '../diagnostics/span.js';
import type { IrPort, IrRule } from '../ir/types.js';
import { ANY_GROUP_ID } from '../ir/types.js';

function peersCover(outer: string[], inner: string[]): boolean {
  if (outer.includes(ANY_GROUP_ID)) return true;
  return inner.every((id) => outer.includes(id));
}

function portCovers(outer: IrPort, inner: IrPort): boolean {
  if (outer.protocol !== 'any' && outer.protocol !== inner.protocol) return false;
  if (outer.protocol === 'any') return true;
  if (outer.icmpType !== undefined && (outer.icmpType !== inner.icmpType || (outer.icmpCode !== undefined && outer.icmpCode !== inner.icmpCode))) return false;
  if (outer.name !== undefined) return inner.name === outer.name;
  if (outer.port === undefined) return true;
  if (inner.port === undefined) return false;
  return outer.port <= inner.port && (inner.endPort ?? inner.port) <= (outer.endPort ?? outer.port);
}

function portsCover(outer: IrPort[], inner: IrPort[]): boolean {
  if (outer.length === 0) return true;
  if (inner.length === 0) return false;
  return inner.every((i) => outer.some((o) => portCovers(o, i)));
}

/** `rules` must be in evaluation order; `spanOf` gives a rule's span for the warning. */
export function findShadowedRules(rules: readonly IrRule[], spanOf: (id: string) => Span | undefined): Diagnostic[] {
  const out: Diagnostic[] = [];
  let tier = '';
  let buckets = new Map<string, IrRule[]>();
  let broad: IrRule[] = [];
  for (const rule of rules) {
    if (rule.tier !== tier) {
      tier = rule.tier;
      buckets = new Map();
      broad = [];
    }
    if (rule.origin === 'intent') {
      const key = `${rule.from.join(',')}>${rule.to.join(',')}`;
      const candidates = [...(buckets.get(key) ?? []), ...broad];
      const shadow = candidates.find((r) => !r.l7 && peersCover(r.from, rule.from) && peersCover(r.to, rule.to) && portsCover(r.ports, rule.ports));
      const span = spanOf(rule.id);
      if (shadow && span) {
        const shadowSpan = spanOf(shadow.id);
        out.push(diag('NI4003', span, [`${shadow.id.slice('rule:'.length)} (${shadow.action})`], shadowSpan ? [{ span: shadowSpan, label: 'this rule matches first' }] : []));
      }
    }
    if (rule.from.includes(ANY_GROUP_ID) || rule.to.includes(ANY_GROUP_ID)) broad.push(rule);
    else {
      const key = `${rule.from.join(',')}>${rule.to.join(',')}`;
      const list = buckets.get(key) ?? [];
      list.push(rule);
      buckets.set(key, list);
    }
  }
  return out;
}
