/**
 * The statement parser builds each statement from a derivation, cached by the token
 * signatures of the statement. Whatever the cache holds, the statements must be exactly
 * those nearley's own parse of the whole program builds (values and spans).
 */
import fc from 'fast-check';
import nearley from 'nearley';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { lexDsl, TokenFeed } from '../../../grammar/lexer.js';
import { printDsl } from '../../../src/frontend/dsl/index.js';
import grammar from '../../../src/frontend/dsl/grammar.generated.js';
import { parseStatements } from '../../../src/frontend/dsl/parse.js';
import { decls } from './arbitraries.js';

const programGrammar = nearley.Grammar.fromCompiled(grammar);

/** Statements of nearley's whole-program parse; JSON keeps a pending value's text and span and drops its resolver. */
function programStatements(file: string, text: string): string {
  const parser = new nearley.Parser(programGrammar, { lexer: new TokenFeed(lexDsl(file, text).tokens) });
  parser.feed('');
  expect(parser.results).toHaveLength(1);
  return JSON.stringify(parser.results[0]);
}

function cachedStatements(file: string, text: string): string {
  const syntax = parseStatements(file, text);
  expect(syntax.diagnostics).toEqual([]);
  return JSON.stringify(syntax.statements);
}

const dir = path.join(import.meta.dirname, 'fixtures');
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.intent'));

describe('cached derivations', () => {
  test.each(fixtures)('%s: the same statements as the whole-program parse, cold and warm', (name) => {
    const text = readFileSync(path.join(dir, name), 'utf8');
    const expected = programStatements(name, text);
    expect(cachedStatements(name, text)).toBe(expected);
    expect(cachedStatements(name, text)).toBe(expected);
  });

  test('a statement shape seen before is built from the new tokens (names, keywords, ports, spans)', () => {
    const first = 'policy a tier application priority 10 {\n  allow web -> api on tcp/80\n}\n';
    const second = '\n\npolicy zz tier admin priority 7 {\n  deny  "x y" -> $db on udp/53-60 log\n}\n';
    cachedStatements('one.intent', first);
    expect(cachedStatements('two.intent', second)).toBe(programStatements('two.intent', second));
  });

  test('random programs: the same statements as the whole-program parse', () => {
    fc.assert(
      fc.property(decls, decls, (a, b) => {
        for (const [file, text] of [['a.intent', printDsl(a)], ['b.intent', printDsl(b)], ['c.intent', printDsl([...b, ...a])]] as const) {
          expect(cachedStatements(file, text)).toBe(programStatements(file, text));
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('policies and groups item by item', () => {
  test('rules with L7 blocks, nested braces, every action; members of every kind', () => {
    const text = [
      'group g {',
      '  pods app = a, !legacy in namespace x',
      '  group other',
      '  cidr 10.0.0.0/8 except 10.1.0.0/16',
      '  fqdn "*.example.com"',
      '  service ns/svc',
      '}',
      'policy p tier tenant priority 3 {',
      '  allow g -> any on tcp/80 http { GET "/a" host "h" header "x" = "y"  POST "/b" }',
      '  deny any -> g on udp/53 dns { pattern "*.x" }',
      '  reject g -> g log',
      '  pass any -> any',
      '}',
      'policy empty {',
      '}',
    ].join('\n');
    expect(cachedStatements('blocks.intent', text)).toBe(programStatements('blocks.intent', text));
    expect(cachedStatements('blocks.intent', text)).toBe(programStatements('blocks.intent', text));
  });

  test('an error inside a block item is reported where it is, after items of the same shapes were cached', () => {
    cachedStatements('ok.intent', 'policy p {\n  allow a -> b on tcp/80\n}\n');
    const syntax = parseStatements('bad.intent', 'policy p {\n  allow a -> b on tcp/80\n  allow a -> -> b\n}\n');
    expect(syntax.diagnostics.map((d) => [d.code, d.span?.start.line, d.span?.start.col])).toEqual([['NI1001', 3, 14]]);
  });
});
