/** A position in a source file; line and column are 1-based, offset is 0-based (UTF-16 units). */
export interface Position {
  line: number;
  col: number;
  offset: number;
}

/** A half-open source range [start, end) in one file. Every AST node carries one. */
export interface Span {
  file: string;
  start: Position;
  end: Position;
}

/** Maps offsets of one file's text to line/column positions (binary search over line starts). */
export class LineMap {
  private readonly lineStarts: number[];

  constructor(readonly file: string, readonly text: string) {
    this.lineStarts = [0];
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    }
  }

  position(offset: number): Position {
    const clamped = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= clamped) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: clamped - this.lineStarts[lo]! + 1, offset: clamped };
  }

  span(startOffset: number, endOffset: number): Span {
    return { file: this.file, start: this.position(startOffset), end: this.position(endOffset) };
  }

  lineText(line: number): string {
    const start = this.lineStarts[line - 1];
    if (start === undefined) return '';
    const next = this.lineStarts[line];
    const end = next === undefined ? this.text.length : next - 1;
    return this.text.slice(start, end).replace(/\r$/, '');
  }
}

/**
 * A span of a file whose line map is at hand, holding offsets only: line and column are
 * worked out when read. The DSL parser gives every AST node one and few are ever read,
 * so this keeps the AST of a large corpus small (one object per span instead of three).
 */
export class OffsetSpan implements Span {
  constructor(
    readonly lines: LineMap,
    readonly startOffset: number,
    readonly endOffset: number,
  ) {}

  get file(): string {
    return this.lines.file;
  }

  get start(): Position {
    return this.lines.position(this.startOffset);
  }

  get end(): Position {
    return this.lines.position(this.endOffset);
  }

  /** The plain form every other span has, for JSON output. */
  toJSON(): Span {
    return { file: this.file, start: this.start, end: this.end };
  }
}

export function compareSpans(a: Span, b: Span): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.start.offset - b.start.offset || a.end.offset - b.end.offset;
}

/** `file:line:col`, the form editors and CI annotations understand. */
export function formatSpan(span: Span): string {
  return `${span.file}:${span.start.line}:${span.start.col}`;
}

/** `file:line`, used in generated comments. */
export function formatSpanShort(span: Span): string {
  return `${span.file}:${span.start.line}`;
}

/** The span of an IR element from its `sources` entry (the IR keeps line/col only, no offsets). */
export function spanOfSource(ref: { file: string; line: number; col: number; endLine: number; endCol: number } | undefined): Span | undefined {
  if (!ref) return undefined;
  return { file: ref.file, start: { line: ref.line, col: ref.col, offset: 0 }, end: { line: ref.endLine, col: ref.endCol, offset: 0 } };
}
