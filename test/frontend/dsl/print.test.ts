import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type * as A from '../../../src/ast/index.js';
import { parseDsl, printDsl } from '../../../src/frontend/dsl/index.js';
import { countProgramParses } from '../../../src/frontend/dsl/parse.js';
import { decl, decls } from './arbitraries.js';
import { withoutSpans } from './helpers.js';

function roundTrip(ds: A.Decl[]): { text: string; back: A.Decl[]; codes: string[] } {
  const text = printDsl(ds);
  const r = parseDsl('printed.intent', text);
  return { text, back: r.source.decls, codes: r.diagnostics.map((d) => `${d.code} ${d.message}`) };
}

describe('printDsl', () => {
  test('prints canonical DSL, quoting what must be quoted', () => {
    const ds = parseDsl('x.intent', 'group "any" { pods "in" = "a b", tier = web } policy p priority 5 { allow "any" -> any on tcp/80 log }').source.decls;
    expect(printDsl(ds)).toBe('group "any" {\n  pods "in" = "a b", tier = web\n}\n\npolicy p priority 5 {\n  allow "any" -> any on tcp/80 log\n}\n');
  });

  test('random declarations survive print -> parse (modulo spans), with exactly one parse', () => {
    fc.assert(
      fc.property(decls, (ds) => {
        const { text, back, codes } = roundTrip(ds);
        expect(codes, text).toEqual([]);
        expect(withoutSpans(back), text).toEqual(withoutSpans(ds));
        expect(countProgramParses('printed.intent', text), text).toBe(1);
      }),
      { numRuns: 400 },
    );
  });

  test('printing is stable: print(parse(print(d))) == print(d)', () => {
    fc.assert(
      fc.property(decl, (d) => {
        const { text, back } = roundTrip([d]);
        expect(printDsl(back)).toBe(text);
      }),
      { numRuns: 200 },
    );
  });
});
