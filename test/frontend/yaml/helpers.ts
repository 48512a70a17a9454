import type { Decl } from '../../../src/ast/index.js';
import type { Diagnostic } from '../../../src/diagnostics/diagnostic.js';
import { parseYamlDocuments } from '../../../src/frontend/yaml/index.js';

/** Drops every `span` so that ASTs compare by meaning. */
export function withoutSpans<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutSpans) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'span').map(([k, v]) => [k, withoutSpans(v)])) as T;
  }
  return value;
}

export function parse(text: string, file = 'test.yaml'): { decls: Decl[]; diagnostics: Diagnostic[]; formats: string[] } {
  const result = parseYamlDocuments(file, text);
  return {
    decls: result.sources.flatMap((s) => s.decls),
    diagnostics: result.diagnostics,
    formats: result.sources.map((s) => s.format),
  };
}

/** `code@line:col` of each diagnostic, in order: compact to assert on. */
export function where(diagnostics: Diagnostic[]): string[] {
  return diagnostics.map((d) => `${d.code}@${d.span?.start.line}:${d.span?.start.col}`);
}

/** Wraps an IntentSet spec (indented YAML lines) in the document header. */
export function intentSet(spec: string): string {
  return `apiVersion: netintent.dev/v1alpha1\nkind: IntentSet\nmetadata:\n  name: t\nspec:\n${spec}`;
}
