import type { Span } from '../../../src/diagnostics/span.js';

/** A deep copy without `span` properties, for "same AST modulo spans" assertions. */
export function withoutSpans<T>(x: T): T {
  return JSON.parse(JSON.stringify(x, (key, value: unknown) => (key === 'span' ? undefined : value))) as T;
}

/** Every span in a tree. */
export function spansIn(x: unknown, out: Span[] = []): Span[] {
  if (Array.isArray(x)) for (const v of x) spansIn(v, out);
  else if (x !== null && typeof x === 'object') {
    for (const [k, v] of Object.entries(x)) {
      if (k === 'span') out.push(v as Span);
      else spansIn(v, out);
    }
  }
  return out;
}

/** `{line, col}` of a span's start, for compact assertions. */
export function at(span: Span | undefined): [number, number] | undefined {
  return span ? [span.start.line, span.start.col] : undefined;
}
