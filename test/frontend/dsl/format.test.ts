import { describe, expect, test } from 'vitest';
import { formatDsl, parseDsl } from '../../../src/frontend/dsl/index.js';
import { withoutSpans } from './helpers.js';

const fmt = (text: string): string => formatDsl('f.intent', text).text;

describe('formatDsl', () => {
  test('canonical layout: 2-space indentation, one member or rule per line', () => {
    expect(fmt('tenant t {namespaces a,b isolation strict}   group   g{pods app=web cidr 10.0.0.0/8}')).toBe(
      'tenant t {\n  namespaces a, b\n  isolation strict\n}\ngroup g {\n  pods app = web\n  cidr 10.0.0.0/8\n}\n',
    );
    expect(fmt('policy p { allow a -> b on tcp/80 http { GET "/" POST "/x" } log }')).toBe(
      'policy p {\n  allow a -> b on tcp/80 http {\n    GET "/"\n    POST "/x"\n  } log\n}\n',
    );
    expect(fmt('rate r { ingress 10M egress 20M }')).toBe('rate r {\n  ingress 10M\n  egress 20M\n}\n');
  });

  test('keeps named values, item order and let/include statements', () => {
    const text = 'include "a.intent"\nlet net = 10.0.0.0/8\ntenant t { pool $net isolation none pool 10.1.0.0/16 }\n';
    expect(fmt(text)).toBe('include "a.intent"\nlet net = 10.0.0.0/8\ntenant t {\n  pool $net\n  isolation none\n  pool 10.1.0.0/16\n}\n');
  });

  test('comments stay where they were: own-line before the next line, trailing at its line end', () => {
    const text = [
      '# header comment',
      '',
      'group web {   // trailing on the opener',
      '      # leading a member',
      '  pods app = web    # trailing a member',
      '  pods app = api',
      '     # before the closer',
      '}  # after the closer',
      '',
      '',
      '# between statements',
      'policy p {',
      '  allow web -> db   # first line of a rule',
      '     on tcp/80      # second line of the same rule',
      '}',
      '# at the end',
    ].join('\n');
    const expected = [
      '# header comment',
      '',
      'group web { // trailing on the opener',
      '  # leading a member',
      '  pods app = web # trailing a member',
      '  pods app = api',
      '  # before the closer',
      '} # after the closer',
      '',
      '# between statements',
      'policy p {',
      '  allow web -> db on tcp/80 # first line of a rule # second line of the same rule',
      '}',
      '# at the end',
      '',
    ].join('\n');
    expect(fmt(text)).toBe(expected);
    expect(fmt(expected)).toBe(expected);
  });

  test('same AST after formatting', () => {
    const text = 'policy p tier admin { allow pods a in namespace x, y -> cidr $n except 10.1.0.0/16 on tcp/1-2, icmp type 3 code 4 }\nlet n = 10.0.0.0/8';
    expect(withoutSpans(parseDsl('f.intent', fmt(text)).source)).toEqual(withoutSpans(parseDsl('f.intent', text).source));
  });

  test('a file with syntax errors is returned unchanged, with the errors', () => {
    const r = formatDsl('f.intent', 'group g {  pods  ');
    expect(r.text).toBe('group g {  pods  ');
    expect(r.diagnostics.map((d) => d.code)).toEqual(['NI1002']);
  });

  test('empty and comment-only files', () => {
    expect(fmt('')).toBe('');
    expect(fmt('  # only a comment  \n\n')).toBe('# only a comment\n');
  });
});
