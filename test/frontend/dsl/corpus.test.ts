import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { formatDsl, parseDsl } from '../../../src/frontend/dsl/index.js';
import { countProgramParses } from '../../../src/frontend/dsl/parse.js';
import { withoutSpans } from './helpers.js';

const dir = path.join(import.meta.dirname, 'fixtures');
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.intent'));

/** The fenced examples of docs/dsl.md: the spec must parse as written. */
const docBlocks = [...readFileSync(path.join(import.meta.dirname, '../../../docs/dsl.md'), 'utf8').matchAll(/```\n([\s\S]*?)```/g)].map(
  (m) => m[1]!,
);

describe('sample programs', () => {
  test.each(fixtures)('%s: no diagnostics, exactly one parse tree', (name) => {
    const text = readFileSync(path.join(dir, name), 'utf8');
    expect(parseDsl(name, text).diagnostics).toEqual([]);
    expect(countProgramParses(name, text)).toBe(1);
  });

  test.each(fixtures)('%s: fmt is idempotent and keeps the AST and every comment', (name) => {
    const text = readFileSync(path.join(dir, name), 'utf8');
    const once = formatDsl(name, text);
    expect(once.diagnostics).toEqual([]);
    expect(formatDsl(name, once.text).text).toBe(once.text);
    expect(withoutSpans(parseDsl(name, once.text).source)).toEqual(withoutSpans(parseDsl(name, text).source));
    const comments = (s: string): string[] => [...s.matchAll(/(?:#|\/\/)[^\n]*/g)].map((m) => m[0].trimEnd()).sort();
    expect(comments(once.text).join(' ')).toBe(comments(text).join(' '));
  });

  test.each(docBlocks.map((b, i) => [i, b] as const))('docs/dsl.md example %i parses once', (_, block) => {
    expect(countProgramParses('doc.intent', block)).toBe(1);
    const codes = parseDsl('doc.intent', block).diagnostics.map((d) => d.code);
    // The second example uses $office, defined in the first one.
    expect(codes.filter((c) => c !== 'NI1006')).toEqual([]);
  });
});
