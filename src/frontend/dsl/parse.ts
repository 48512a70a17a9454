/**
 * Parsing driver: lex, cut the token stream into top-level statements, run the nearley
 * parser on each statement (small Earley tables keep it fast, and a broken statement
 * does not hide errors in the next one), then resolve `let` values, rates and durations.
 */
import nearley from 'nearley';
import type * as A from '../../ast/index.js';
import { diag, sortDiagnostics, type Diagnostic } from '../../diagnostics/diagnostic.js';
import type { LineMap, Span } from '../../diagnostics/span.js';
import {
  describeToken,
  lexDsl,
  STATEMENT_KEYWORDS,
  TOKEN_DESCRIPTIONS,
  TokenFeed,
  type Comment,
  type Token,
  type TokenTest,
  type TokenType,
} from '../../../grammar/lexer.js';
import grammar from './grammar.generated.js';
import {
  classifyValue,
  Pending,
  tokenSpan,
  VALUE_KIND_NAMES,
  type IncludeStatement,
  type LetStatement,
  type ResolveContext,
  type Statement,
  type ValueKind,
} from './build.js';

const programGrammar = nearley.Grammar.fromCompiled(grammar);

/**
 * Statements are parsed into derivations (which rule, over which children) and only the
 * one winning derivation is then built by the grammar's postprocessors, so no AST is
 * built for the dead ends Earley explores. Token runs with the same token signatures
 * (below) have the same derivation: it is cached, and a repeated shape skips the Earley
 * parse. Policies and groups are parsed item by item (each rule, each member), so a
 * policy whose rules were all seen before is not parsed at all, whatever its length.
 */
type Postprocess = (d: unknown[]) => unknown;
class Derivation {
  constructor(
    readonly postprocess: Postprocess,
    /** Sub-derivations and terminals: the parser's tokens, replaced by their index in the parsed run once cached. */
    readonly children: unknown[],
  ) {}
}
const derivationRules = grammar.ParserRules.map((rule) => {
  const postprocess = (rule.postprocess ?? ((d: unknown[]) => d)) as Postprocess;
  return { ...rule, postprocess: (d: unknown[]) => new Derivation(postprocess, d) };
});
const derivationGrammar = (start: string): nearley.Grammar => nearley.Grammar.fromCompiled({ ...grammar, ParserStart: start, ParserRules: derivationRules });
const statementGrammar = derivationGrammar('statement');

/** Blocks parsed item by item: the header and braces as a skeleton with an empty `list`, then each `item`. */
interface ItemBlock {
  item: string;
  grammar: nearley.Grammar;
  /** Reserved words that start an item, and occur nowhere else at the block's top level. */
  starts: ReadonlySet<string>;
  /** The postprocessor of `list -> list item`. */
  append: Postprocess;
}
function itemBlock(list: string, item: string, starts: string[]): ItemBlock {
  const rule = grammar.ParserRules.find((r) => r.name === list && r.symbols.length === 2 && r.symbols[0] === list && r.symbols[1] === item);
  if (!rule?.postprocess) throw new Error(`grammar: no rule ${list} -> ${list} ${item}`);
  return { item, grammar: derivationGrammar(item), starts: new Set(starts), append: rule.postprocess as Postprocess };
}
const ITEM_BLOCKS: ReadonlyMap<string, ItemBlock> = new Map([
  ['policy', itemBlock('rules', 'rule', ['allow', 'deny', 'reject', 'pass'])],
  ['group', itemBlock('members', 'member', ['pods', 'cidr', 'fqdn', 'service', 'group'])],
]);

/**
 * The grammar's terminals: keyword and punctuation literals, which a token matches by its
 * text (so at most one), and predicates over its type and text. A token's signature is
 * the set of those that accept it: the literal's number and one bit per predicate.
 */
const LITERALS = new Map<string, number>();
const PREDICATES: ((t: Token) => boolean)[] = [];
{
  const seen = new Set<unknown>();
  for (const rule of grammar.ParserRules) {
    for (const symbol of rule.symbols as (string | { literal?: string; type?: string; test?: (t: Token) => boolean })[]) {
      if (typeof symbol === 'string' || seen.has(symbol.literal ?? symbol.type ?? symbol.test)) continue;
      seen.add(symbol.literal ?? symbol.type ?? symbol.test);
      if (symbol.test) PREDICATES.push(symbol.test);
      else if (symbol.literal !== undefined) LITERALS.set(symbol.literal, LITERALS.size + 1);
      else PREDICATES.push((t) => t.type === symbol.type);
    }
  }
  if (2 ** PREDICATES.length * (LITERALS.size + 1) > Number.MAX_SAFE_INTEGER) throw new Error('grammar: too many terminals for a numeric signature');
}

/** Bounded so that a long-running webhook recompiling many inputs keeps its memory flat. */
const CACHE_LIMIT = 50_000;
const signatureIds = new Map<string, Map<string, number>>();
const signatureBySet = new Map<number, number>();
const derivations = new Map<string, Derivation>();

/** The derivation of a token run under `grammar` (cached under `kind`), or undefined unless it parses exactly once. */
function cachedDerivation(kind: string, g: nearley.Grammar, run: readonly Token[]): Derivation | undefined {
  let key = kind;
  for (const t of run) key += `,${signatureOf(t)}`;
  let derivation = derivations.get(key);
  if (derivation) return derivation;
  const outcome = runParser(g, run);
  if (!outcome.ok || outcome.results.length !== 1) return undefined;
  derivation = indexTokens(outcome.results[0] as Derivation, new Map(run.map((t, i) => [t, i])));
  if (derivations.size >= CACHE_LIMIT) derivations.clear();
  derivations.set(key, derivation);
  return derivation;
}

/** Small id of the set of terminals that accept a token (which depends on its type and text only). */
function signatureOf(t: Token): number {
  let byText = signatureIds.get(t.type);
  if (!byText) signatureIds.set(t.type, (byText = new Map()));
  let id = byText.get(t.text);
  if (id === undefined) {
    let set = (LITERALS.get(t.text) ?? 0) * 2 ** PREDICATES.length;
    for (let i = 0; i < PREDICATES.length; i++) if (PREDICATES[i]!(t)) set += 2 ** i;
    id = signatureBySet.get(set);
    if (id === undefined) signatureBySet.set(set, (id = signatureBySet.size));
    if (byText.size >= CACHE_LIMIT) byText.clear();
    byText.set(t.text, id);
  }
  return id;
}

/** Replaces the tokens of a fresh derivation by their index in the statement (in place). */
function indexTokens(d: Derivation, index: ReadonlyMap<Token, number>): Derivation {
  for (let i = 0; i < d.children.length; i++) {
    const c = d.children[i];
    d.children[i] = c instanceof Derivation ? indexTokens(c, index) : index.get(c as Token);
  }
  return d;
}

/** Runs the grammar's postprocessors over a derivation with the run's tokens; `replaced` is built as `value`. */
function build(d: Derivation, run: readonly Token[], replaced?: Derivation, value?: unknown): unknown {
  if (d === replaced) return value;
  const data = new Array<unknown>(d.children.length);
  for (let i = 0; i < data.length; i++) {
    const c = d.children[i];
    data[i] = typeof c === 'number' ? run[c] : build(c as Derivation, run, replaced, value);
  }
  return d.postprocess(data);
}

/** A token run built from its cached derivation, or undefined unless it parses exactly once. */
function buildCached(kind: string, g: nearley.Grammar, run: readonly Token[]): unknown {
  const derivation = cachedDerivation(kind, g, run);
  return derivation ? build(derivation, run) : undefined;
}

/**
 * A policy or group statement built item by item, or undefined when it is not such a
 * block or any part does not parse exactly once (the whole statement is then parsed, and
 * its errors reported, as any other).
 */
function buildItemBlock(statement: readonly Token[]): unknown {
  const block = ITEM_BLOCKS.get(statement[0]!.text);
  const last = statement.length - 1;
  const open = statement.findIndex((t) => t.type === 'lbrace');
  if (!block || statement[0]!.type !== 'word' || open < 0 || statement[last]!.type !== 'rbrace' || open === last) return undefined;
  const itemStarts: number[] = [];
  let depth = 0;
  for (let i = open + 1; i < last; i++) {
    const t = statement[i]!;
    if (depth === 0 && t.type === 'word' && block.starts.has(t.text)) itemStarts.push(i);
    else if (i === open + 1) return undefined;
    if (t.type === 'lbrace') depth++;
    else if (t.type === 'rbrace') depth--;
  }
  const skeletonRun = [...statement.slice(0, open + 1), statement[last]!];
  const skeleton = cachedDerivation('{}', statementGrammar, skeletonRun);
  // statement -> policy|group -> [… "{" list "}"]: the list is the empty derivation before "}".
  const blockChildren = (skeleton?.children[0] as Derivation | undefined)?.children;
  const emptyList = blockChildren?.[blockChildren.length - 2];
  if (!(emptyList instanceof Derivation) || emptyList.children.length !== 0) return undefined;
  let list = emptyList.postprocess([]);
  for (let k = 0; k < itemStarts.length; k++) {
    const run = statement.slice(itemStarts[k], itemStarts[k + 1] ?? last);
    const item = buildCached(block.item, block.grammar, run);
    if (item === undefined) return undefined;
    list = block.append([list, item]);
  }
  return build(skeleton!, skeletonRun, emptyList, list);
}

export interface SyntaxResult {
  tokens: Token[];
  comments: Comment[];
  /** The statements that parsed, in source order. */
  statements: Statement[];
  /** Those of them that hold `Pending` values. */
  pending: ReadonlySet<Statement>;
  diagnostics: Diagnostic[];
  lines: LineMap;
}

/** Keywords that also occur inside blocks; there they start a statement only when followed by its shape. */
function startsStatement(tokens: readonly Token[], i: number, depth: number): boolean {
  const t = tokens[i]!;
  if (t.type !== 'word' || !STATEMENT_KEYWORDS.has(t.text)) return false;
  if (depth === 0) return tokens[i - 1]?.text !== 'tier'; // `policy p tier tenant`
  switch (t.text) {
    case 'tenant':
    case 'group':
    case 'cluster':
      return tokens[i + 2]?.type === 'lbrace';
    case 'pool':
      return tokens[i + 2]?.text === 'deployment' || tokens[i + 2]?.text === 'statefulset';
    default:
      return true; // a missing `}`: resynchronise anyway
  }
}

/** Start indexes of the top-level statements (the first token always starts one). */
function statementStarts(tokens: readonly Token[]): number[] {
  const starts: number[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (i === 0 || startsStatement(tokens, i, depth)) {
      if (i > 0) depth = 0;
      starts.push(i);
    }
    const type = tokens[i]!.type;
    if (type === 'lbrace') depth++;
    else if (type === 'rbrace') depth = Math.max(0, depth - 1);
  }
  return starts;
}

interface EarleyState {
  rule: { symbols: (string | { literal?: string; type?: TokenType } | TokenTest)[] };
  dot: number;
}

/** Human names of the terminals the parser could accept next, deduplicated and sorted. */
function expectedTerminals(column: { states: EarleyState[] } | undefined): string {
  const names = new Set<string>();
  for (const state of column?.states ?? []) {
    const symbol = state.rule.symbols[state.dot];
    if (symbol === undefined || typeof symbol === 'string') continue;
    if ('literal' in symbol && symbol.literal !== undefined) names.add(JSON.stringify(symbol.literal));
    else if ('description' in symbol) for (const n of [symbol.description].flat()) names.add(n);
    else if ('type' in symbol && symbol.type) names.add(TOKEN_DESCRIPTIONS[symbol.type]);
  }
  const sorted = [...names].sort();
  // A complete statement: only the next statement can follow.
  if (sorted.length === 0) return `a new statement (${[...STATEMENT_KEYWORDS].sort().join(', ')})`;
  return sorted.length === 1 ? sorted[0]! : `one of: ${sorted.join(', ')}`;
}

type Outcome =
  | { ok: true; results: unknown[] }
  | { ok: false; at: number | 'end'; expected: string }
  | { ok: false; internal: string };

/** Runs nearley over a token slice; never throws. */
function runParser(g: nearley.Grammar, tokens: readonly Token[]): Outcome {
  const parser = new nearley.Parser(g, { lexer: new TokenFeed(tokens) });
  const table = (): { states: EarleyState[] }[] => (parser as unknown as { table: { states: EarleyState[] }[] }).table;
  try {
    parser.feed('');
  } catch (e) {
    const token = (e as { token?: Token }).token;
    // nearley's syntax errors carry the offending token; anything else is a bug in a builder.
    if (!token) return { ok: false, internal: e instanceof Error ? e.message : String(e) };
    return { ok: false, at: tokens.indexOf(token), expected: expectedTerminals(table()[table().length - 2]) };
  }
  if (parser.results.length === 0) return { ok: false, at: 'end', expected: expectedTerminals(table()[table().length - 1]) };
  return { ok: true, results: parser.results };
}

/** Number of parse trees of a whole program under the `program` rule (the grammar must give exactly 1). */
export function countProgramParses(file: string, text: string): number {
  const outcome = runParser(programGrammar, lexDsl(file, text).tokens);
  return outcome.ok ? outcome.results.length : 0;
}

export function parseStatements(file: string, text: string): SyntaxResult {
  const { lines, tokens, comments, problems } = lexDsl(file, text);
  const diagnostics: Diagnostic[] = problems.map((p) =>
    p.kind === 'invalid-char'
      ? diag('NI1003', lines.span(p.offset, p.offset + p.length), [JSON.stringify(p.char)])
      : diag('NI1004', lines.span(p.offset, p.offset + p.length)),
  );
  const statements: Statement[] = [];
  const pending = new Set<Statement>();
  const starts = statementStarts(tokens);
  const endOfInput = lines.span(text.length, text.length);
  starts.forEach((first, k) => {
    const end = starts[k + 1] ?? tokens.length;
    const run = tokens.slice(first, end);
    const built = (make: () => unknown): boolean => {
      try {
        const pendingBefore = Pending.made;
        const statement = make() as Statement | undefined;
        if (statement === undefined) return false;
        statements.push(statement);
        if (Pending.made !== pendingBefore) pending.add(statement);
        return true;
      } catch (e) {
        // The postprocessors validate nothing; an exception there is a bug in a builder.
        diagnostics.push(diag('NI9004', tokenSpan(tokens[first]!), [e instanceof Error ? e.message : String(e)]));
        return true;
      }
    };
    if (built(() => buildItemBlock(run) ?? buildCached('', statementGrammar, run))) return;
    // Not exactly one parse: parse again, for the diagnostics.
    const outcome = runParser(statementGrammar, run);
    if (outcome.ok) {
      diagnostics.push(diag('NI1005', tokenSpan(tokens[first]!), [outcome.results.length]));
      built(() => build(indexTokens(outcome.results[0] as Derivation, new Map(run.map((t, i) => [t, i]))), run));
      return;
    }
    if ('internal' in outcome) {
      diagnostics.push(diag('NI9004', tokenSpan(tokens[first]!), [outcome.internal]));
    } else if (outcome.at !== 'end') {
      const bad = tokens[first + outcome.at]!;
      diagnostics.push(diag('NI1001', tokenSpan(bad), [describeToken(bad), outcome.expected]));
    } else if (end < tokens.length) {
      const next = tokens[end]!;
      diagnostics.push(diag('NI1001', tokenSpan(next), [describeToken(next), outcome.expected]));
    } else {
      diagnostics.push(diag('NI1002', endOfInput, [outcome.expected]));
    }
  });
  return { tokens, comments, statements, pending, diagnostics, lines };
}

/** Replaces every `Pending` in a freshly built tree by its value (in place). */
function resolveTree(x: unknown, ctx: ResolveContext): unknown {
  if (x instanceof Pending) return x.resolve(ctx);
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) x[i] = resolveTree(x[i], ctx);
  } else if (x !== null && typeof x === 'object') {
    const record = x as Record<string, unknown>;
    for (const key of Object.keys(record)) if (key !== 'span') record[key] = resolveTree(record[key], ctx);
  }
  return x;
}

export interface DslParseResult {
  source: A.SourceFile;
  diagnostics: Diagnostic[];
  /** The file's `include` statements, for the loader to follow. */
  includes: { path: string; span: Span }[];
}

/** Parses one DSL file; `let` values are file-local and may be used before their definition. */
export function parseDsl(file: string, text: string): DslParseResult {
  const syntax = parseStatements(file, text);
  const diagnostics = syntax.diagnostics;
  const lets = new Map<string, LetStatement>();
  const includes: DslParseResult['includes'] = [];
  const decls: A.Decl[] = [];
  for (const statement of syntax.statements) {
    if (statement.kind === 'let') {
      if (lets.has(statement.name.value)) diagnostics.push(diag('NI1007', statement.name.span, [statement.name.value]));
      else lets.set(statement.name.value, statement);
    } else if (statement.kind === 'include') {
      includes.push({ path: (statement as IncludeStatement).path.value, span: statement.span });
    } else {
      decls.push(statement);
    }
  }
  const ctx: ResolveContext = {
    report: (d) => diagnostics.push(d),
    lookup(ref: Token, kinds: readonly ValueKind[]) {
      const name = ref.text.slice(1);
      const definition = lets.get(name);
      if (!definition) {
        diagnostics.push(diag('NI1006', tokenSpan(ref), [name]));
        return undefined;
      }
      const kind = classifyValue(definition.value);
      if (!kinds.includes(kind)) {
        const wanted = kinds.map((k) => VALUE_KIND_NAMES[k]).join(' or ');
        diagnostics.push(diag('NI1010', tokenSpan(ref), [name, VALUE_KIND_NAMES[kind], wanted]));
        return undefined;
      }
      return definition.value;
    },
  };
  for (const decl of decls) if (syntax.pending.has(decl)) resolveTree(decl, ctx);
  return { source: { file, format: 'dsl', decls }, diagnostics: sortDiagnostics(diagnostics), includes };
}
