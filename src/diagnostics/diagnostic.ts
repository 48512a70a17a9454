import { messages, type Code, type Severity } from './messages.js';
import { compareSpans, type Span } from './span.js';

export interface RelatedSpan {
  span: Span;
  label: string;
}

export interface Diagnostic {
  code: Code;
  severity: Severity;
  message: string;
  /** Absent only for diagnostics about the invocation itself (usage, missing files). */
  span?: Span;
  related: RelatedSpan[];
  help?: string;
}

function fill(template: string, args: readonly (string | number)[]): string {
  return template.replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)] ?? ''));
}

/** Builds a diagnostic from the catalogue; the only way diagnostics are made. */
export function diag(
  code: Code,
  span: Span | undefined,
  args: readonly (string | number)[] = [],
  related: RelatedSpan[] = [],
): Diagnostic {
  const def = messages[code];
  const help = 'help' in def ? fill(def.help, args) : undefined;
  return {
    code,
    severity: def.severity,
    message: fill(def.text, args),
    ...(span ? { span } : {}),
    related,
    ...(help ? { help } : {}),
  };
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Source order: file, then offset; diagnostics without a span come first. Never locale-dependent. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  return [...list].sort((a, b) => {
    if (!a.span || !b.span) return (a.span ? 1 : 0) - (b.span ? 1 : 0) || byText(a.code, b.code);
    return compareSpans(a.span, b.span) || byText(a.code, b.code) || byText(a.message, b.message);
  });
}

export function hasErrors(list: readonly Diagnostic[]): boolean {
  return list.some((d) => d.severity === 'error');
}

/** Thrown by edges (CLI, loaders) to abort with diagnostics already built. */
export class DiagnosticError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => `${d.code}: ${d.message}`).join('\n'));
  }
}
