/**
 * `netintent fmt`: reprints parsed statements canonically (2-space indentation, one
 * statement, rule or member per line) and puts every comment back: a comment that
 * followed code on its line stays at the end of the line printing that code; a comment
 * on its own line stays before the line printing the code that followed it. Blank lines
 * between statements and items are kept (at most one).
 */
import { hasErrors, type Diagnostic } from '../../diagnostics/diagnostic.js';
import type { Comment, Token } from '../../../grammar/lexer.js';
import { parseStatements } from './parse.js';
import { renderLine, statementLines, type Line } from './print.js';

/** Index of the last element whose offset is below `offset` (-1 if none). */
function lastBefore(xs: readonly { offset: number }[], offset: number): number {
  let lo = -1;
  let hi = xs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (xs[mid]!.offset < offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function formatDsl(file: string, text: string): { text: string; diagnostics: Diagnostic[] } {
  const syntax = parseStatements(file, text);
  if (hasErrors(syntax.diagnostics)) return { text, diagnostics: syntax.diagnostics };
  const { tokens, comments } = syntax;

  const lines: Line[] = syntax.statements.flatMap((s) => statementLines(s, true));
  const anchored = lines.flatMap((l, index) => (l.anchor === undefined ? [] : [{ offset: l.anchor, index }]));

  const trailing = new Map<number, string[]>();
  const leading = new Map<number, Comment[]>();
  const atEnd: Comment[] = [];
  for (const c of comments) {
    const prev: Token | undefined = tokens[lastBefore(tokens, c.offset)];
    if (prev && prev.line === c.line) {
      // After code on the same line: the line that printed that code (anchor <= its offset).
      const owner = anchored[lastBefore(anchored, prev.offset + 1)];
      if (owner) {
        trailing.set(owner.index, [...(trailing.get(owner.index) ?? []), c.text]);
        continue;
      }
    }
    const next = anchored[lastBefore(anchored, c.offset + 1) + 1];
    if (next) leading.set(next.index, [...(leading.get(next.index) ?? []), c]);
    else atEnd.push(c);
  }

  // Source elements in offset order, to see whether a blank line preceded an offset.
  const elements = [...tokens, ...comments.map((c) => ({ offset: c.offset, text: c.text }))].sort((a, b) => a.offset - b.offset);
  const blankBefore = (offset: number): boolean => {
    const prev = elements[lastBefore(elements, offset)];
    if (!prev) return false;
    const gap = text.slice(prev.offset + prev.text.length, offset);
    return gap.indexOf('\n') !== gap.lastIndexOf('\n');
  };

  const out: string[] = [];
  let afterOpener = false;
  const push = (line: string, offset: number | undefined, closer: boolean, opener: boolean): void => {
    if (offset !== undefined && out.length > 0 && !closer && !afterOpener && blankBefore(offset)) out.push('');
    out.push(line);
    afterOpener = opener;
  };
  const pushComment = (c: Comment, depth: number): void => push(renderLine({ depth, text: c.text }), c.offset, false, false);

  lines.forEach((line, index) => {
    const closer = line.text.startsWith('}');
    for (const c of leading.get(index) ?? []) pushComment(c, line.depth + (closer ? 1 : 0));
    const notes = trailing.get(index);
    const rendered = renderLine(line) + (notes ? ` ${notes.join(' ')}` : '');
    push(rendered, line.anchor, closer, line.text.endsWith('{'));
  });
  for (const c of atEnd) pushComment(c, 0);
  return { text: out.length ? `${out.join('\n')}\n` : '', diagnostics: syntax.diagnostics };
}
