/**
 * The check stage: resolves names, validates, lowers all front ends' declarations into
 * one IR and reports every diagnostic in source order.
 */
import type { SourceFile } from '../ast/index.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Span } from '../diagnostics/span.js';
import type { Ir } from '../ir/types.js';
import { Lowering } from './lower.js';
import { findShadowedRules } from './shadow.js';

export interface CheckResult {
  /** Absent when any error was found. */
  ir?: Ir;
  diagnostics: Diagnostic[];
}

export function checkSources(sources: readonly SourceFile[]): CheckResult {
  // Input order must not matter: process files by path.
  const ordered = [...sources].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const decls = ordered.flatMap((s) => s.decls);
  const lowering = new Lowering(decls);
  const ir = lowering.lower();
  // Built on the first shadowed rule only: most inputs have none.
  let ruleSpans: Map<string, Span> | undefined;
  const ruleSpan = (id: string): Span | undefined => {
    if (!ruleSpans) {
      ruleSpans = new Map();
      for (const s of ordered) {
        for (const d of s.decls) {
          if (d.kind === 'policy') d.rules.forEach((r, i) => ruleSpans!.set(`rule:${d.name.value}/${i}`, r.span));
        }
      }
    }
    return ruleSpans.get(id);
  };
  const diagnostics = sortDiagnostics([...lowering.diagnostics, ...findShadowedRules(ir.rules, ruleSpan)]);
  return hasErrors(diagnostics) ? { diagnostics } : { ir, diagnostics };
}
