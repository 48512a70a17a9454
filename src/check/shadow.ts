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

/**
 * The rules of one tier with `any` on a side, in order, indexed by their `to` groups: a
 * rule whose `to` is not `any` covers only rules whose first `to` group it holds, so a
 * tier with one `deny any -> X` per tenant stays linear instead of quadratic.
 */
class BroadRules {
  private readonly all: IrRule[] = [];
  private readonly toAny: number[] = [];
  private readonly byTo = new Map<string, number[]>();

  add(rule: IrRule): void {
    const index = this.all.push(rule) - 1;
    if (rule.to.includes(ANY_GROUP_ID)) this.toAny.push(index);
    else {
      for (const id of rule.to) {
        const list = this.byTo.get(id);
        if (list) list.push(index);
        else this.byTo.set(id, [index]);
      }
    }
  }

  /** In order, every rule that may cover the `to` side of `rule`. */
  candidates(rule: IrRule): IrRule[] {
    if (rule.to.length === 0) return this.all;
    const a = this.toAny;
    const b = this.byTo.get(rule.to[0]!) ?? [];
    const out: IrRule[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) out.push(this.all[j >= b.length || (i < a.length && a[i]! < b[j]!) ? a[i++]! : b[j++]!]!);
    return out;
  }
}

/** `rules` must be in evaluation order; `spanOf` gives a rule's span for the warning. */
export function findShadowedRules(rules: readonly IrRule[], spanOf: (id: string) => Span | undefined): Diagnostic[] {
  const out: Diagnostic[] = [];
  let tier = '';
  let buckets = new Map<string, IrRule[]>();
  let broad = new BroadRules();
  const covers = (r: IrRule, rule: IrRule): boolean => !r.l7 && peersCover(r.from, rule.from) && peersCover(r.to, rule.to) && portsCover(r.ports, rule.ports);
  for (const rule of rules) {
    if (rule.tier !== tier) {
      tier = rule.tier;
      buckets = new Map();
      broad = new BroadRules();
    }
    const key = `${rule.from.join(',')}>${rule.to.join(',')}`;
    if (rule.origin === 'intent') {
      const shadow = buckets.get(key)?.find((r) => covers(r, rule)) ?? broad.candidates(rule).find((r) => covers(r, rule));
      const span = shadow && spanOf(rule.id);
      if (shadow && span) {
        const shadowSpan = spanOf(shadow.id);
        out.push(diag('NI4003', span, [`${shadow.id.slice('rule:'.length)} (${shadow.action})`], shadowSpan ? [{ span: shadowSpan, label: 'this rule matches first' }] : []));
      }
    }
    if (rule.from.includes(ANY_GROUP_ID) || rule.to.includes(ANY_GROUP_ID)) broad.add(rule);
    else {
      const list = buckets.get(key);
      if (list) list.push(rule);
      else buckets.set(key, [rule]);
    }
  }
  return out;
}
