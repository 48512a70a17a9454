/**
 * YAML front end: splits a multi-document YAML file and dispatches each document by
 * apiVersion/kind — IntentSet → AST (format 'yaml'), networking.k8s.io/v1 NetworkPolicy
 * (alone, or inside a v1 List / NetworkPolicyList) → AST (format 'netpol'). Documents of
 * other Kubernetes kinds are ignored; see docs/yaml.md for the rules.
 */
import { isMap, isScalar, isSeq, parseAllDocuments, type Document, type Node as YamlNode, type YAMLMap } from 'yaml';
import type { Decl, SourceFile } from '../../ast/index.js';
import { diag, type Diagnostic } from '../../diagnostics/diagnostic.js';
import { LineMap } from '../../diagnostics/span.js';
import { networkPolicyDecl } from '../netpol/index.js';
import { intentSetDecls } from './intentset.js';
import { YamlDoc } from './nodes.js';
import { schemaDiagnostics } from './schema-errors.js';

export const INTENTSET_API_VERSION = 'netintent.dev/v1alpha1';
const NETPOL_API_VERSION = 'networking.k8s.io/v1';
/** Guards against alias bombs ("billion laughs"): yaml's limit on alias expansion. */
const MAX_ALIAS_COUNT = 100;

export interface YamlParseResult {
  /** At most one SourceFile per format ('yaml', 'netpol'), in order of first appearance. */
  sources: SourceFile[];
  diagnostics: Diagnostic[];
}

export function parseYamlDocuments(file: string, text: string): YamlParseResult {
  const lines = new LineMap(file, text);
  const diagnostics: Diagnostic[] = [];
  const report = (d: Diagnostic) => diagnostics.push(d);
  const decls = new Map<SourceFile['format'], Decl[]>();
  const declsOf = (format: SourceFile['format']) => {
    if (!decls.has(format)) decls.set(format, []);
    return decls.get(format)!;
  };
  let recognised = false;

  for (const doc of parseAllDocuments(text, { prettyErrors: false })) {
    if (doc.errors.length > 0) {
      for (const error of doc.errors) report(diag('NI1101', lines.span(error.pos[0], error.pos[1]), [error.message.replace(/\.$/, '')]));
      recognised = true;
      continue;
    }
    const y = new YamlDoc(lines, doc);
    const root = y.resolve(doc.contents);
    if (!isMap(root)) continue;
    const { apiVersion, kind, kindNode } = typeOf(y, root);
    const wanted = kind === 'IntentSet' || kind === 'NetworkPolicy' || apiVersion.startsWith('netintent.dev/');
    const isList = (kind === 'List' && apiVersion === 'v1') || (kind === 'NetworkPolicyList' && apiVersion === NETPOL_API_VERSION);
    if (!wanted && !isList) continue;
    if (!expandsSafely(doc, y, root, report)) {
      recognised = true;
      continue;
    }
    if (kind === 'IntentSet' && apiVersion === INTENTSET_API_VERSION) {
      recognised = true;
      const problems = schemaDiagnostics(y, doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
      diagnostics.push(...problems);
      const found = problems.length === 0 ? intentSetDecls(y, root, report) : [];
      declsOf('yaml').push(...found);
    } else if (kind === 'NetworkPolicy' && apiVersion === NETPOL_API_VERSION) {
      recognised = true;
      const decl = networkPolicyDecl(y, root, report);
      declsOf('netpol').push(...(decl ? [decl] : []));
    } else if (isList) {
      for (const item of listItems(y, root)) {
        const itemType = typeOf(y, item);
        if (itemType.kind !== 'NetworkPolicy') continue;
        recognised = true;
        if (itemType.apiVersion !== NETPOL_API_VERSION) {
          report(diag('NI1103', y.span(itemType.kindNode ?? item), [itemType.kind, itemType.apiVersion]));
          continue;
        }
        const decl = networkPolicyDecl(y, item, report);
        declsOf('netpol').push(...(decl ? [decl] : []));
      }
    } else {
      recognised = true;
      report(diag('NI1103', y.span(kindNode ?? root), [kind, apiVersion]));
    }
  }

  if (!recognised) report(diag('NI1104', lines.span(0, 0)));
  const sources = [...decls].map(([format, list]): SourceFile => ({ file, format, decls: list }));
  return { sources, diagnostics };
}

function typeOf(y: YamlDoc, map: YAMLMap): { apiVersion: string; kind: string; kindNode: YamlNode | undefined } {
  const stringField = (key: string) => {
    const node = y.field(map, key);
    return isScalar(node) && typeof node.value === 'string' ? node.value : '';
  };
  return { apiVersion: stringField('apiVersion'), kind: stringField('kind'), kindNode: y.field(map, 'kind') };
}

function listItems(y: YamlDoc, list: YAMLMap): YAMLMap[] {
  const items = y.field(list, 'items');
  return isSeq(items) ? y.items(items).filter(isMap) : [];
}

/** Expands the document once with yaml's alias limit, so later walks over aliases stay small. */
function expandsSafely(doc: Document.Parsed, y: YamlDoc, root: YAMLMap, report: (d: Diagnostic) => void): boolean {
  try {
    doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    return true;
  } catch (error) {
    report(diag('NI1101', y.span(root), [error instanceof Error ? error.message.replace(/\.$/, '') : String(error)]));
    return false;
  }
}
