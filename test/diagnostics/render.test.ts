import { describe, expect, it } from 'vitest';
import Ajv from 'ajv';
import { diag } from '../../src/diagnostics/diagnostic.js';
import { renderGithub, renderHuman, renderJson, renderSarif } from '../../src/diagnostics/render.js';
import { LineMap } from '../../src/diagnostics/span.js';

const text = 'policy p {\n  allow wbe -> db on tcp/5432\n}\n';
const map = new LineMap('a.intent', text);
const span = map.span(text.indexOf('wbe'), text.indexOf('wbe') + 3);
const unknown = diag('NI2001', span, ['group', 'wbe'], [{ span: map.span(0, 6), label: 'in this policy' }]);
const lookup = (f: string): string | undefined => (f === 'a.intent' ? text : undefined);

describe('diagnostic renderers', () => {
  it('human: location, code, message, code frame with carets under the span, help, summary', () => {
    const out = renderHuman([unknown], lookup, false);
    expect(out).toContain('a.intent:2:9: error NI2001: Unknown group "wbe".');
    expect(out).toContain('2 |   allow wbe -> db on tcp/5432');
    expect(out).toContain('  |         ^^^');
    expect(out).toContain('help: Declare the group or fix the spelling.');
    expect(out).toContain('note: a.intent:1:1: in this policy');
    expect(out.trimEnd().split('\n').at(-1)).toBe('1 error, 0 warnings');
    expect(out).not.toContain('\x1b[');
  });

  it('human: colour only when asked (a TTY)', () => {
    expect(renderHuman([unknown], lookup, true)).toContain('\x1b[31;1m');
  });

  it('json: versioned envelope with spans', () => {
    const parsed = JSON.parse(renderJson([unknown]));
    expect(parsed.version).toBe('netintent.dev/diagnostics/v1');
    expect(parsed.diagnostics[0]).toMatchObject({ code: 'NI2001', severity: 'error', span: { file: 'a.intent', start: { line: 2, col: 9 } } });
  });

  it('sarif: valid 2.1.0 shape with rules and regions', () => {
    const sarif = JSON.parse(renderSarif([unknown, diag('NI9002', undefined, ['x'])], '1.2.3'));
    expect(sarif.version).toBe('2.1.0');
    const run = sarif.runs[0];
    expect(run.tool.driver.rules.map((r: { id: string }) => r.id)).toEqual(['NI2001', 'NI9002']);
    expect(run.results[0].locations[0].physicalLocation.region).toEqual({ startLine: 2, startColumn: 9, endLine: 2, endColumn: 12 });
    expect(run.results[0].ruleIndex).toBe(0);
    expect(run.results[1].locations).toEqual([]);
    // Minimal structural schema of what code scanning requires.
    const ajv = new Ajv();
    const ok = ajv.validate(
      {
        type: 'object',
        required: ['version', 'runs'],
        properties: {
          runs: {
            type: 'array',
            items: {
              type: 'object',
              required: ['tool', 'results'],
              properties: { results: { type: 'array', items: { type: 'object', required: ['ruleId', 'message', 'level'] } } },
            },
          },
        },
      },
      sarif,
    );
    expect(ok).toBe(true);
  });

  it('github: workflow commands with escaped properties and data', () => {
    const d = diag('NI1001', span, ['"x,y"', 'a name']);
    const out = renderGithub([d]);
    expect(out.startsWith('::error file=a.intent,line=2,col=9,endLine=2,endColumn=12,title=netintent NI1001::')).toBe(true);
    expect(out).toContain('%0A'); // message and help on two lines
    expect(out.trimEnd().split('\n')).toHaveLength(1);
  });
});
