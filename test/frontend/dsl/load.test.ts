import { describe, expect, test } from 'vitest';
import { loadDslFiles } from '../../../src/frontend/dsl/index.js';

function loader(files: Record<string, string>): { read: (p: string) => string; reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    read: (p) => {
      reads.push(p);
      const text = files[p];
      if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
      return text;
    },
  };
}

describe('loadDslFiles', () => {
  test('follows includes relative to the including file, each file once', () => {
    const { read, reads } = loader({
      'main.intent': 'include "lib/a.intent"\ninclude "lib/b.intent"\ngroup main {}',
      'lib/a.intent': 'include "common.intent"\ngroup a {}',
      'lib/b.intent': 'include "./common.intent"\ngroup b {}',
      'lib/common.intent': 'group common {}',
    });
    const r = loadDslFiles(['main.intent'], read);
    expect(r.diagnostics).toEqual([]);
    expect(r.sources.map((s) => s.file)).toEqual(['main.intent', 'lib/a.intent', 'lib/common.intent', 'lib/b.intent']);
    expect(reads).toEqual(['main.intent', 'lib/a.intent', 'lib/common.intent', 'lib/b.intent']);
  });

  test('include cycles are NI1009 at the include that closes them', () => {
    const { read } = loader({ 'a.intent': 'include "b.intent"', 'b.intent': '\ninclude "a.intent"' });
    const r = loadDslFiles(['a.intent'], read);
    expect(r.diagnostics.map((d) => [d.code, d.message, d.span?.file, d.span?.start.line])).toEqual([
      ['NI1009', 'Include cycle: a.intent -> b.intent -> a.intent.', 'b.intent', 2],
    ]);
    expect(r.sources).toHaveLength(2);
  });

  test('unreadable includes are NI1008; unreadable entries NI9001', () => {
    const { read } = loader({ 'a.intent': 'group g {}\ninclude "missing.intent"' });
    const r = loadDslFiles(['a.intent', 'nope.intent'], read);
    expect(r.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ['NI1008', `Cannot include "missing.intent": ENOENT: no such file or directory, open 'missing.intent'.`],
      ['NI9001', `Cannot read nope.intent: ENOENT: no such file or directory, open 'nope.intent'.`],
    ]);
  });

  test('named values are local to their file', () => {
    const { read } = loader({ 'a.intent': 'include "b.intent"\nlet net = 10.0.0.0/8', 'b.intent': 'group g { cidr $net }' });
    const r = loadDslFiles(['a.intent'], read);
    expect(r.diagnostics.map((d) => [d.code, d.span?.file])).toEqual([['NI1006', 'b.intent']]);
  });
});
