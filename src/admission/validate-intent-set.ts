/**
 * IntentSet objects applied to the cluster are compiled like files: a set that does not
 * compile is rejected with its diagnostics.
 */
import { stringify } from 'yaml';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Ir } from '../ir/types.js';
import { isObject, type JsonObject } from './pod.js';

/** `compileTexts` of src/sources. */
export type CompileTexts = (files: { path: string; text: string }[]) => { ir?: Ir; diagnostics: Diagnostic[] };

export interface IntentSetVerdict {
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

export function checkIntentSet(compileTexts: CompileTexts, path: string, object: JsonObject): IntentSetVerdict {
  const meta = isObject(object.metadata) ? object.metadata : {};
  // Server-set metadata (namespace, uid, managedFields…) is no part of the intents and
  // the IntentSet schema refuses it; the path names the object instead.
  const document = {
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: { name: meta.name, ...(meta.labels !== undefined ? { labels: meta.labels } : {}) },
    spec: object.spec,
  };
  const { diagnostics } = compileTexts([{ path, text: stringify(document) }]);
  return {
    errors: diagnostics.filter((d) => d.severity === 'error'),
    warnings: diagnostics.filter((d) => d.severity === 'warning'),
  };
}
