/**
 * The DSL lexer (moo) and the token predicates the nearley grammar uses as terminals.
 * Keywords are not separate token types: every identifier-like run is a `word`, and the
 * grammar matches keywords by their text. That keeps keywords contextual (`tier` is a
 * label key in a selector and a keyword in a policy header); only the words in
 * `RESERVED_WORDS` can never be used unquoted as names.
 */
import moo from 'moo';
import { LineMap } from '../src/diagnostics/span.js';

export type TokenType =
  | 'word'
  | 'string'
  | 'ref'
  | 'arrow'
  | 'neq'
  | 'bang'
  | 'eq'
  | 'comma'
  | 'lparen'
  | 'rparen'
  | 'lbrace'
  | 'rbrace'
  | 'star';

/** A significant token. `text` is the source text; `value` is the unquoted string content. */
export interface Token {
  type: TokenType;
  text: string;
  value: string;
  /** The file's line map, for spans. */
  lines: LineMap;
  offset: number;
  line: number;
  col: number;
}

export interface Comment {
  text: string;
  offset: number;
  line: number;
}

export type LexProblem =
  | { kind: 'invalid-char'; char: string; offset: number; length: number }
  | { kind: 'unterminated-string'; offset: number; length: number };

export interface LexResult {
  lines: LineMap;
  tokens: Token[];
  comments: Comment[];
  problems: LexProblem[];
}

/** Word characters: `-` not starting `->`, `/` not starting a `//` comment. */
const WORD = /(?:[A-Za-z0-9_.:%]|-(?!>)|\/(?!\/))+/;

/**
 * Single characters that are a token whatever follows come first: moo takes those by a
 * table lookup instead of its regular expression, which matters in a large corpus (so a
 * space or a newline is a whitespace token of its own; other whitespace runs are one).
 */
const mooLexer = moo.compile({
  eq: '=',
  comma: ',',
  lparen: '(',
  rparen: ')',
  lbrace: '{',
  rbrace: '}',
  star: '*',
  space: { match: [' ', '\n'], lineBreaks: true },
  ws: { match: /[ \t\r\n\f\v\uFEFF]+/, lineBreaks: true },
  comment: /(?:#|\/\/)[^\n]*/,
  string: /"(?:[^"\\\n]|\\.)*"/,
  badString: /"(?:[^"\\\n]|\\.)*\\?/,
  ref: /\$[A-Za-z_][A-Za-z0-9_-]*/,
  arrow: '->',
  neq: '!=',
  bang: '!',
  word: WORD,
  invalid: { match: /[\s\S]/, lineBreaks: true },
});

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r' };

export function unquote(text: string): string {
  return text.slice(1, -1).replace(/\\(.)/g, (_, c: string) => ESCAPES[c] ?? c);
}

export function quote(value: string): string {
  return `"${value.replace(/[\\"\n\t\r]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : `\\${c}`))}"`;
}

export function lexDsl(file: string, text: string): LexResult {
  const lines = new LineMap(file, text);
  const tokens: Token[] = [];
  const comments: Comment[] = [];
  const problems: LexProblem[] = [];
  mooLexer.reset(text);
  // `next()` rather than the iterator: no result object per token.
  for (let t = mooLexer.next(); t; t = mooLexer.next()) {
    switch (t.type) {
      case 'space':
      case 'ws':
        break;
      case 'comment':
        comments.push({ text: t.text.trimEnd(), offset: t.offset, line: t.line });
        break;
      case 'badString':
        problems.push({ kind: 'unterminated-string', offset: t.offset, length: t.text.length });
        break;
      case 'invalid': {
        // One diagnostic per run of invalid characters, not one per character.
        const last = problems[problems.length - 1];
        if (last?.kind === 'invalid-char' && last.offset + last.length === t.offset) last.length += t.text.length;
        else problems.push({ kind: 'invalid-char', char: t.text, offset: t.offset, length: t.text.length });
        break;
      }
      default:
        tokens.push({
          type: t.type as TokenType,
          text: t.text,
          value: t.type === 'string' ? unquote(t.text) : t.text,
          lines,
          offset: t.offset,
          line: t.line,
          col: t.col,
        });
    }
  }
  return { lines, tokens, comments, problems };
}

// ---------------------------------------------------------------- keywords

/** Keywords that start a top-level statement; the parser resynchronises on them. */
export const STATEMENT_KEYWORDS: ReadonlySet<string> = new Set([
  'include', 'let', 'cluster', 'tenant', 'group', 'policy', 'fixed-ip', 'pool',
  'egress-gateway', 'rate', 'networkpolicy',
]);

/** Words that are never names: quote them (`"any"`) to use them as one. */
export const RESERVED_WORDS: ReadonlySet<string> = new Set([
  ...STATEMENT_KEYWORDS,
  'any', 'all', 'or', 'in', 'notin', 'on', 'where', 'except',
  'allow', 'deny', 'reject', 'pass', 'pods', 'cidr', 'fqdn', 'service', 'log', 'l4-only',
]);

// ---------------------------------------------------------------- terminal predicates

/** A grammar terminal decided by a predicate; `description` names it in error messages. */
export interface TokenTest {
  test: (token: Token) => boolean;
  /** What to call it in "expected …"; a keyword set lists its keywords. */
  description: string | readonly string[];
}

const ADDRESS = /^[0-9A-Fa-f:][0-9A-Fa-f:./-]*$/;
const PORT_SPEC = /^(?:(?:tcp|udp|sctp)(?:\/[A-Za-z0-9][A-Za-z0-9-]*)?|icmp|icmpv6|any)$/;
export const HTTP_METHOD = /^[A-Z][A-Z0-9_-]*$/;

export function isBareName(text: string): boolean {
  return !RESERVED_WORDS.has(text);
}

export function isAddressWord(text: string): boolean {
  return ADDRESS.test(text) && /[.:]/.test(text);
}

export function isNamespacedName(text: string): boolean {
  const slash = text.indexOf('/');
  return slash > 0 && slash < text.length - 1 && text.indexOf('/', slash + 1) < 0;
}

const isWord = (t: Token, ok: (text: string) => boolean): boolean => t.type === 'word' && ok(t.text);
const isStringOrName = (t: Token): boolean => t.type === 'string' || isWord(t, isBareName);
/** One of a few keywords, listed one by one in "expected …" messages. */
const keywordSet = (...words: string[]): TokenTest => {
  const set = new Set(words);
  return { description: words.map((w) => JSON.stringify(w)), test: (t) => isWord(t, (s) => set.has(s)) };
};
const kafkaRole = keywordSet('produce', 'consume');
const isQuantity = (t: Token): boolean => t.type === 'ref' || isWord(t, (s) => /^[0-9]/.test(s));

/**
 * Predicate terminals, referenced from the grammar as `%nameToken` etc. (the `vocabulary`
 * below answers `has()` only for real token types, so nearleyc falls back to these).
 * Each accepts every token form of one kind of value, `$name` references included: one
 * terminal instead of a nonterminal with alternatives keeps the Earley sets small.
 */
export const terminals = {
  nameToken: {
    description: 'name',
    test: (t: Token) => t.type === 'ref' || isStringOrName(t),
  },
  keyToken: { description: 'label key', test: isStringOrName },
  plainNameToken: { description: 'name', test: (t: Token) => isWord(t, isBareName) },
  pathToken: { description: 'path', test: isStringOrName },
  letValueToken: { description: 'value', test: isStringOrName },
  l7Token: { description: 'string', test: (t: Token) => t.type === 'string' || t.type === 'ref' },
  addressToken: {
    description: 'address',
    test: (t: Token) => t.type === 'string' || t.type === 'ref' || isWord(t, isAddressWord),
  },
  numberToken: { description: 'number', test: (t: Token) => t.type === 'ref' || isWord(t, (s) => /^[0-9]+$/.test(s)) },
  /** Units are checked after parsing (NI4004/NI4005), so any digit-led word is accepted here. */
  rateToken: { description: 'rate (e.g. 10M)', test: isQuantity },
  durationToken: { description: 'duration (e.g. 50ms)', test: isQuantity },
  percentToken: { description: 'percentage (e.g. 1%)', test: isQuantity },
  portWord: { description: 'port (e.g. tcp/80)', test: (t: Token) => isWord(t, (s) => PORT_SPEC.test(s)) },
  icmpWord: keywordSet('icmp', 'icmpv6'),
  protocolSlashWord: { description: 'port (e.g. tcp/80)', test: (t: Token) => isWord(t, (s) => /^(?:tcp|udp|sctp)\/$/.test(s)) },
  methodWord: { description: 'HTTP method', test: (t: Token) => isWord(t, (s) => HTTP_METHOD.test(s)) },
  namespacedToken: {
    description: 'namespace/name',
    test: (t: Token) => (t.type === 'string' || t.type === 'word') && isNamespacedName(t.value),
  },
  actionWord: keywordSet('allow', 'deny', 'reject', 'pass'),
  tierWord: keywordSet('admin', 'tenant', 'application', 'baseline'),
  isolationWord: keywordSet('strict', 'default', 'none'),
  directionWord: keywordSet('ingress', 'egress'),
  workloadWord: keywordSet('deployment', 'statefulset'),
  kafkaRoleToken: { description: ['"consume"', '"produce"', 'string'], test: (t: Token) => t.type === 'string' || kafkaRole.test(t) },
} satisfies Record<string, TokenTest>;

const TOKEN_TYPES: ReadonlySet<string> = new Set<TokenType>([
  'word', 'string', 'ref', 'arrow', 'neq', 'bang', 'eq', 'comma', 'lparen', 'rparen', 'lbrace', 'rbrace', 'star',
]);

/** Feeds an already lexed token slice to a nearley parser (instead of lexing text). */
export class TokenFeed {
  private index = 0;
  constructor(private readonly tokens: readonly Token[]) {}
  reset(): void {
    this.index = 0;
  }
  next(): Token | undefined {
    return this.tokens[this.index++];
  }
  save(): object {
    return {};
  }
  formatError(): string {
    return '';
  }
  has(type: string): boolean {
    return TOKEN_TYPES.has(type);
  }
}

/** What the grammar knows of the lexer at load time: which token types exist. */
export const vocabulary = new TokenFeed([]);

/** Human name of a token for "Unexpected …" messages. */
export function describeToken(t: Token): string {
  switch (t.type) {
    case 'word':
      return `${RESERVED_WORDS.has(t.text) ? 'keyword' : 'identifier'} ${JSON.stringify(t.text)}`;
    case 'string':
      return `string ${t.text}`;
    case 'ref':
      return `named value ${JSON.stringify(t.text)}`;
    default:
      return JSON.stringify(t.text);
  }
}

export const TOKEN_DESCRIPTIONS: Record<TokenType, string> = {
  word: 'identifier',
  string: 'string',
  ref: 'named value ($name)',
  arrow: '"->"',
  neq: '"!="',
  bang: '"!"',
  eq: '"="',
  comma: '","',
  lparen: '"("',
  rparen: '")"',
  lbrace: '"{"',
  rbrace: '"}"',
  star: '"*"',
};
