import { describe, expect, test } from 'vitest';
import { parseDsl } from '../../../src/frontend/dsl/index.js';
import { at } from './helpers.js';

/** [code, message, [line, col]] of each diagnostic. */
function errors(text: string): [string, string, [number, number] | undefined][] {
  return parseDsl('e.intent', text).diagnostics.map((d) => [d.code, d.message, at(d.span)]);
}

const STATEMENTS = '"cluster", "egress-gateway", "fixed-ip", "group", "include", "let", "networkpolicy", "policy", "pool", "rate", "tenant"';

describe('syntax errors say what was expected, and where', () => {
  test('end of input inside a block (NI1002)', () => {
    expect(errors('group web {\n  pods app = web\n')).toEqual([
      ['NI1002', 'Unexpected end of input; expected one of: ",", "cidr", "fqdn", "group", "in", "on", "pods", "service", "}".', [3, 1]],
    ]);
  });
  test('missing arrow', () => {
    expect(errors('policy p {\n  allow web db\n}')).toEqual([['NI1001', 'Unexpected identifier "db"; expected one of: "->", "or".', [2, 13]]]);
  });
  test('two broken statements are both reported; the good one between them parses', () => {
    const text = 'tenant t {\n  isolation total\n}\ngroup g { pods x }\npolicy p { allow a -> }\n';
    expect(errors(text)).toEqual([
      ['NI1001', 'Unexpected identifier "total"; expected one of: "default", "none", "strict".', [2, 13]],
      ['NI1001', 'Unexpected "}"; expected one of: "any", "cidr", "fqdn", "pods", "service", name.', [5, 23]],
    ]);
    expect(parseDsl('e.intent', text).source.decls.map((d) => d.kind)).toEqual(['group']);
  });
  test('a missing "}" is reported at the next statement, which still parses', () => {
    const r = parseDsl('e.intent', 'group g {\n  pods a = b\n\ntenant t { }\n');
    expect(r.diagnostics.map((d) => [d.code, d.message, at(d.span)])).toEqual([
      ['NI1001', 'Unexpected keyword "tenant"; expected one of: ",", "cidr", "fqdn", "group", "in", "on", "pods", "service", "}".', [4, 1]],
    ]);
    expect(r.source.decls.map((d) => d.kind)).toEqual(['tenant']);
  });
  test('unterminated string (NI1004)', () => {
    expect(errors('group g { pods a = "open\n}')[0]).toEqual(['NI1004', 'Unterminated string.', [1, 20]]);
  });
  test('invalid characters (NI1003), one diagnostic per run', () => {
    expect(errors('group g { pods a = b } @@@ group h { }')).toEqual([['NI1003', 'Invalid character "@".', [1, 24]]]);
  });
  test('garbage before the first statement', () => {
    expect(errors('foo bar\ngroup g {}')).toEqual([['NI1001', `Unexpected identifier "foo"; expected one of: ${STATEMENTS}.`, [1, 1]]]);
  });
  test('unknown tier, missing rate, missing namespace', () => {
    expect(errors('policy p tier gold { }')).toEqual([
      ['NI1001', 'Unexpected identifier "gold"; expected one of: "admin", "application", "baseline", "tenant".', [1, 15]],
    ]);
    expect(errors('rate r { ingress fast }')).toEqual([['NI1001', 'Unexpected identifier "fast"; expected rate (e.g. 10M).', [1, 18]]]);
    expect(errors('networkpolicy web { }')).toEqual([['NI1001', 'Unexpected identifier "web"; expected namespace/name.', [1, 15]]]);
  });
  test('lower-case HTTP method, empty port list, reserved word as a name', () => {
    expect(errors('policy p { allow a -> b on tcp/80 http { get "/" } }')).toEqual([
      ['NI1001', 'Unexpected identifier "get"; expected one of: "*", "}", HTTP method.', [1, 42]],
    ]);
    expect(errors('policy p { allow any -> any on }')).toEqual([
      ['NI1001', 'Unexpected "}"; expected one of: "icmp", "icmpv6", port (e.g. tcp/80).', [1, 32]],
    ]);
    expect(errors('group any { }')).toEqual([['NI1001', 'Unexpected keyword "any"; expected name.', [1, 7]]]);
  });
  test('a stray "}" after a complete statement', () => {
    expect(errors('group g { pods app = web } }')).toEqual([
      ['NI1001', `Unexpected "}"; expected a new statement (${STATEMENTS.replace(/"/g, '')}).`, [1, 28]],
    ]);
  });
  test('diagnostics carry the file name', () => {
    expect(parseDsl('dir/x.intent', 'group').diagnostics[0]!.span!.file).toBe('dir/x.intent');
  });
});
