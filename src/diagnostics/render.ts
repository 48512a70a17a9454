/**
 * Diagnostic renderers: human (code frame), json (versioned), SARIF 2.1.0, GitHub
 * workflow annotations. All take diagnostics already in source order.
 */
import { messages } from './messages.js';
import type { Diagnostic } from './diagnostic.js';
import { LineMap, formatSpan, type Span } from './span.js';

export type DiagnosticFormat = 'human' | 'json' | 'sarif' | 'github';
export const DIAGNOSTIC_FORMATS: readonly DiagnosticFormat[] = ['human', 'json', 'sarif', 'github'];
export const DIAGNOSTICS_JSON_VERSION = 'netintent.dev/diagnostics/v1';

export type SourceLookup = (file: string) => string | undefined;

const COLOURS = { error: '\x1b[31;1m', warning: '\x1b[33;1m', info: '\x1b[36;1m', dim: '\x1b[2m', bold: '\x1b[1m', reset: '\x1b[0m' };

function summary(diags: readonly Diagnostic[]): string {
  const errors = diags.filter((d) => d.severity === 'error').length;
  const warnings = diags.filter((d) => d.severity === 'warning').length;
  const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  return `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
}

function codeFrame(span: Span, lookup: SourceLookup, colour: (c: keyof typeof COLOURS, s: string) => string, label?: string): string[] {
  const text = lookup(span.file);
  if (text === undefined) return [];
  const map = new LineMap(span.file, text);
  const line = map.lineText(span.start.line);
  const gutter = String(span.start.line).length;
  const width = span.end.line === span.start.line ? Math.max(1, span.end.col - span.start.col) : Math.max(1, line.length - span.start.col + 1);
  const pad = ' '.repeat(gutter);
  return [
    `${pad} ${colour('dim', '|')}`,
    `${span.start.line} ${colour('dim', '|')} ${line}`,
    `${pad} ${colour('dim', '|')} ${' '.repeat(Math.max(0, span.start.col - 1))}${colour('bold', '^'.repeat(width))}${label ? ` ${label}` : ''}`,
  ];
}

export function renderHuman(diags: readonly Diagnostic[], lookup: SourceLookup, useColour: boolean): string {
  const colour = (c: keyof typeof COLOURS, s: string): string => (useColour ? `${COLOURS[c]}${s}${COLOURS.reset}` : s);
  const out: string[] = [];
  for (const d of diags) {
    const where = d.span ? `${formatSpan(d.span)}: ` : '';
    out.push(`${where}${colour(d.severity, `${d.severity} ${d.code}`)}: ${d.message}`);
    if (d.span) out.push(...codeFrame(d.span, lookup, colour));
    for (const r of d.related) {
      out.push(`  ${colour('dim', 'note')}: ${formatSpan(r.span)}: ${r.label}`);
      out.push(...codeFrame(r.span, lookup, colour).map((l) => `  ${l}`));
    }
    if (d.help) out.push(`  ${colour('bold', 'help')}: ${d.help}`);
    out.push('');
  }
  if (diags.length) out.push(summary(diags));
  return out.length ? `${out.join('\n')}\n` : '';
}

export function renderJson(diags: readonly Diagnostic[]): string {
  return `${JSON.stringify({ version: DIAGNOSTICS_JSON_VERSION, diagnostics: diags }, null, 2)}\n`;
}

function sarifRegion(span: Span): Record<string, number> {
  return { startLine: span.start.line, startColumn: span.start.col, endLine: span.end.line, endColumn: span.end.col };
}

export function renderSarif(diags: readonly Diagnostic[], toolVersion: string): string {
  const usedCodes = [...new Set(diags.map((d) => d.code))].sort();
  const level = { error: 'error', warning: 'warning', info: 'note' } as const;
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'netintent',
            version: toolVersion,
            informationUri: 'https://netintent.dev',
            rules: usedCodes.map((code) => {
              const def = messages[code];
              return {
                id: code,
                shortDescription: { text: def.text.replace(/\{\d+\}/g, '…') },
                ...('help' in def ? { help: { text: def.help } } : {}),
                defaultConfiguration: { level: level[def.severity] },
              };
            }),
          },
        },
        results: diags.map((d) => ({
          ruleId: d.code,
          ruleIndex: usedCodes.indexOf(d.code),
          level: level[d.severity],
          message: { text: d.help ? `${d.message} ${d.help}` : d.message },
          locations: d.span ? [{ physicalLocation: { artifactLocation: { uri: d.span.file }, region: sarifRegion(d.span) } }] : [],
          relatedLocations: d.related.map((r, i) => ({ id: i, message: { text: r.label }, physicalLocation: { artifactLocation: { uri: r.span.file }, region: sarifRegion(r.span) } })),
        })),
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

/** GitHub workflow commands; property values and messages escaped as the runner expects. */
export function renderGithub(diags: readonly Diagnostic[]): string {
  const escData = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const escProp = (s: string): string => escData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
  const cmd = { error: 'error', warning: 'warning', info: 'notice' } as const;
  return diags
    .map((d) => {
      const props = [`title=${escProp(`netintent ${d.code}`)}`];
      if (d.span) props.unshift(`file=${escProp(d.span.file)}`, `line=${d.span.start.line}`, `col=${d.span.start.col}`, `endLine=${d.span.end.line}`, `endColumn=${d.span.end.col}`);
      return `::${cmd[d.severity]} ${props.join(',')}::${escData(d.help ? `${d.message}\n${d.help}` : d.message)}\n`;
    })
    .join('');
}

export function renderDiagnostics(format: DiagnosticFormat, diags: readonly Diagnostic[], lookup: SourceLookup, opts: { colour: boolean; toolVersion: string }): string {
  switch (format) {
    case 'human':
      return renderHuman(diags, lookup, opts.colour);
    case 'json':
      return renderJson(diags);
    case 'sarif':
      return renderSarif(diags, opts.toolVersion);
    case 'github':
      return renderGithub(diags);
  }
}
