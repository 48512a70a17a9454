/**
 * YAML node helpers shared by the IntentSet and NetworkPolicy front ends: spans from node
 * ranges, alias-aware map/sequence access, and Kubernetes LabelSelector → AST Selector.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node as YamlNode, type Pair, type Scalar, type YAMLMap } from 'yaml';
import type { Selector, SelectorOp, SelectorTerm, Text } from '../../ast/index.js';
import { diag, type Diagnostic } from '../../diagnostics/diagnostic.js';
import type { LineMap, Span } from '../../diagnostics/span.js';

/** One `key: value` entry of a map, with the key as a string (non-scalar keys are skipped). */
export interface Entry {
  key: string;
  keyNode: YamlNode;
  /** Undefined for `key:` with no value or an explicit null. */
  value: YamlNode | undefined;
  pair: Pair;
}

/** A parsed YAML document plus the line map of its file: the view both front ends read. */
export class YamlDoc {
  constructor(
    readonly lines: LineMap,
    readonly doc: Document.Parsed,
  ) {}

  span(node: YamlNode | Pair): Span {
    if (isPair(node)) {
      const key = this.resolve(node.key);
      const value = this.resolve(node.value);
      const start = key?.range?.[0] ?? value?.range?.[0] ?? 0;
      const end = value?.range?.[1] ?? key?.range?.[1] ?? start;
      return this.lines.span(start, Math.max(start, end));
    }
    const range = node.range;
    if (!range) return this.lines.span(0, 0);
    return this.lines.span(range[0], range[1]);
  }

  /** Follows aliases; null scalars (`key:`, `~`) count as absent. */
  resolve(node: unknown): YamlNode | undefined {
    let current = node;
    if (isAlias(current)) current = current.resolve(this.doc);
    if (!current || (isScalar(current) && current.value === null)) return undefined;
    return current as YamlNode;
  }

  entries(map: YAMLMap): Entry[] {
    const out: Entry[] = [];
    for (const pair of map.items) {
      const keyNode = this.resolve(pair.key);
      if (!isScalar(keyNode)) continue;
      out.push({ key: String(keyNode.value), keyNode, value: this.resolve(pair.value), pair });
    }
    return out;
  }

  entry(map: YAMLMap, key: string): Entry | undefined {
    return this.entries(map).find((e) => e.key === key);
  }

  field(map: YAMLMap, key: string): YamlNode | undefined {
    return this.entry(map, key)?.value;
  }

  items(node: YamlNode | undefined): YamlNode[] {
    if (!isSeq(node)) return [];
    return node.items.map((item) => this.resolve(item)).filter((item): item is YamlNode => item !== undefined);
  }

  text(node: YamlNode): Text {
    return { value: isScalar(node) ? String(node.value) : '', span: this.span(node) };
  }

  /**
   * Finds the node a JSON pointer (ajv `instancePath`) names, and the pair that holds it,
   * stopping at the deepest node that exists.
   */
  locate(pointer: string): { node: YamlNode | undefined; pair: Pair | undefined } {
    let node = this.resolve(this.doc.contents);
    let pair: Pair | undefined;
    const segments = pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    for (const segment of segments) {
      if (isMap(node)) {
        const entry = this.entry(node, segment);
        if (!entry) break;
        pair = entry.pair;
        node = entry.value ?? entry.keyNode;
      } else if (isSeq(node)) {
        const item = this.resolve(node.items[Number(segment)]);
        if (!item) break;
        pair = undefined;
        node = item;
      } else break;
    }
    return { node, pair };
  }
}

/** Kind of a YAML node in words, for "must be a map, not a list" messages. */
export function describeNode(node: YamlNode | undefined): string {
  if (node === undefined) return 'empty';
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) return typeof node.value === 'string' ? 'a string' : `a ${typeof node.value}`;
  return 'a value';
}

// Upstream apimachinery rules (IsQualifiedName, IsValidLabelValue).
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return `label key "${key}" has an invalid prefix (a lowercase DNS subdomain)`;
  if (name.length > 63 || !LABEL_NAME.test(name)) return `label key "${key}" is not a valid label name (at most 63 letters, digits, "-", "_", ".", starting and ending alphanumeric)`;
  return undefined;
}

function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !LABEL_NAME.test(value)) return `label value "${value}" is not valid (at most 63 letters, digits, "-", "_", ".", starting and ending alphanumeric)`;
  return undefined;
}

const OPERATORS: Record<string, SelectorOp> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: 'notexists' };

/**
 * Converts a Kubernetes LabelSelector (`matchLabels` + `matchExpressions`) into a Selector,
 * reporting NI1202 for shapes upstream rejects. `strictLabels` also checks label key and
 * value syntax, as the API server does for NetworkPolicies.
 */
export function labelSelector(y: YamlDoc, node: YamlNode | undefined, strictLabels: boolean, report: (d: Diagnostic) => void, whole?: Span): Selector {
  const span = node ? y.span(node) : (whole ?? y.lines.span(0, 0));
  const terms: SelectorTerm[] = [];
  if (node === undefined) return { terms, span };
  if (!isMap(node)) {
    report(diag('NI1202', span, [`a selector must be a map with matchLabels and/or matchExpressions, not ${describeNode(node)}`]));
    return { terms, span };
  }
  for (const entry of y.entries(node)) {
    if (entry.key === 'matchLabels') terms.push(...matchLabels(y, entry, strictLabels, report));
    else if (entry.key === 'matchExpressions') terms.push(...matchExpressions(y, entry, strictLabels, report));
    else report(diag('NI1202', y.span(entry.keyNode), [`unknown field "${entry.key}" (expected matchLabels or matchExpressions)`]));
  }
  return { terms, span };
}

function isStringScalar(node: YamlNode | undefined): node is Scalar<string> {
  return isScalar(node) && typeof node.value === 'string';
}

function matchLabels(y: YamlDoc, entry: Entry, strictLabels: boolean, report: (d: Diagnostic) => void): SelectorTerm[] {
  if (entry.value === undefined) return [];
  if (!isMap(entry.value)) {
    report(diag('NI1202', y.span(entry.value), [`matchLabels must be a map of label keys to values, not ${describeNode(entry.value)}`]));
    return [];
  }
  const terms: SelectorTerm[] = [];
  for (const label of y.entries(entry.value)) {
    const key: Text = { value: label.key, span: y.span(label.keyNode) };
    if (!isStringScalar(label.value) && label.value !== undefined) {
      report(diag('NI1202', y.span(label.value), [`the value of label "${label.key}" must be a string, not ${describeNode(label.value)} (quote it)`]));
      continue;
    }
    const value: Text = label.value ? y.text(label.value) : { value: '', span: key.span };
    const problem = strictLabels ? (labelKeyProblem(key.value) ?? labelValueProblem(value.value)) : undefined;
    if (problem) report(diag('NI1202', y.span(label.pair), [problem]));
    terms.push({ key, op: 'eq', values: [value], span: y.span(label.pair) });
  }
  return terms;
}

function matchExpressions(y: YamlDoc, entry: Entry, strictLabels: boolean, report: (d: Diagnostic) => void): SelectorTerm[] {
  if (entry.value === undefined) return [];
  if (!isSeq(entry.value)) {
    report(diag('NI1202', y.span(entry.value), [`matchExpressions must be a list, not ${describeNode(entry.value)}`]));
    return [];
  }
  const terms: SelectorTerm[] = [];
  for (const item of y.items(entry.value)) {
    const span = y.span(item);
    if (!isMap(item)) {
      report(diag('NI1202', span, [`a match expression must be a map with key, operator and values, not ${describeNode(item)}`]));
      continue;
    }
    let ok = true;
    for (const e of y.entries(item)) {
      if (!['key', 'operator', 'values'].includes(e.key)) {
        report(diag('NI1202', y.span(e.keyNode), [`unknown field "${e.key}" in a match expression (expected key, operator, values)`]));
        ok = false;
      }
    }
    const keyNode = y.field(item, 'key');
    const operatorNode = y.field(item, 'operator');
    const valuesNode = y.field(item, 'values');
    if (!isStringScalar(keyNode)) {
      report(diag('NI1202', keyNode ? y.span(keyNode) : span, ['a match expression needs a string "key"']));
      ok = false;
    } else if (strictLabels) {
      const problem = labelKeyProblem(keyNode.value);
      if (problem) {
        report(diag('NI1202', y.span(keyNode), [problem]));
        ok = false;
      }
    }
    const operatorName = isStringScalar(operatorNode) ? operatorNode.value : undefined;
    const op = operatorName !== undefined ? OPERATORS[operatorName] : undefined;
    if (op === undefined) {
      const got = operatorName !== undefined ? `"${operatorName}" is not a valid operator` : 'a match expression needs an "operator"';
      report(diag('NI1202', operatorNode ? y.span(operatorNode) : span, [`${got} (expected In, NotIn, Exists or DoesNotExist)`]));
      ok = false;
    }
    if (valuesNode !== undefined && !isSeq(valuesNode)) {
      report(diag('NI1202', y.span(valuesNode), [`values must be a list of strings, not ${describeNode(valuesNode)}`]));
      ok = false;
    }
    const values: Text[] = [];
    for (const v of y.items(valuesNode)) {
      if (!isStringScalar(v)) {
        report(diag('NI1202', y.span(v), [`values must be strings, not ${describeNode(v)} (quote it)`]));
        ok = false;
        continue;
      }
      const text = y.text(v);
      const problem = strictLabels ? labelValueProblem(text.value) : undefined;
      if (problem) {
        report(diag('NI1202', text.span, [problem]));
        ok = false;
      }
      values.push(text);
    }
    if (op === 'in' || op === 'notin') {
      if (values.length === 0 && ok) {
        report(diag('NI1202', valuesNode ? y.span(valuesNode) : span, [`operator ${operatorName} needs at least one value`]));
        ok = false;
      }
    } else if (op !== undefined && isSeq(valuesNode) && valuesNode.items.length > 0) {
      report(diag('NI1202', y.span(valuesNode), [`operator ${operatorName} must not have values`]));
      ok = false;
    }
    if (ok && op !== undefined && keyNode) terms.push({ key: y.text(keyNode), op, values, span });
  }
  return terms;
}
