/**
 * StatefulSets listed in an inventory file (`kubectl get statefulsets -A -o yaml` added to
 * the usual inventory). The shared inventory model has no workloads; the IPAM GC needs
 * the replica counts to tell when a sticky ordinal lease may go.
 */
import { parseAllDocuments } from 'yaml';

export interface InventoryStatefulSet {
  namespace: string;
  name: string;
  replicas: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Undefined when the file lists no StatefulSet at all (then GC cannot tell scale-downs). */
export function readStatefulSets(text: string): InventoryStatefulSet[] | undefined {
  const trimmed = text.trimStart();
  const roots: unknown[] = trimmed.startsWith('{') || trimmed.startsWith('[') ? [JSON.parse(text)] : parseAllDocuments(text).flatMap((d) => ('toJS' in d ? [d.toJS()] : []));
  const found: InventoryStatefulSet[] = [];
  const visit = (obj: unknown): void => {
    if (Array.isArray(obj)) return obj.forEach(visit);
    if (!isObj(obj)) return;
    if (Array.isArray(obj.items)) return visit(obj.items);
    if (obj.kind !== 'StatefulSet' || !isObj(obj.metadata) || typeof obj.metadata.name !== 'string') return;
    const spec = isObj(obj.spec) ? obj.spec : {};
    found.push({
      namespace: typeof obj.metadata.namespace === 'string' ? obj.metadata.namespace : 'default',
      name: obj.metadata.name,
      // The API server defaults spec.replicas to 1.
      replicas: typeof spec.replicas === 'number' ? spec.replicas : 1,
    });
  };
  roots.forEach(visit);
  return found.length ? found : undefined;
}
