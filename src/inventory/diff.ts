/**
 * What changed between two inventories, for consumers that update their output from the
 * difference instead of recomputing it.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Inventory, InventoryPod } from './index.js';

/** How far ahead a pod kept as the same object is looked for before an index of positions is built. */
const LOOKAHEAD = 8;

const podKey = (p: InventoryPod): string => `${p.namespace}/${p.name}`;

/**
 * The pods that differ: `removed` (gone from `prev`, or changed) and `added` (new in `next`,
 * or changed); a changed pod is in both, as its old and its new object. Pods kept as the same
 * object (an inventory updated in place, as a watch keeps it) are matched by identity in one
 * pass; the rest are paired by namespace/name and compared in full, so the cost is that pass
 * plus the pods that were replaced.
 */
export function diffPods(prev: readonly InventoryPod[], next: readonly InventoryPod[]): { removed: InventoryPod[]; added: InventoryPod[] } {
  const gone: InventoryPod[] = [];
  const fresh: InventoryPod[] = [];
  let positions: Map<InventoryPod, number> | undefined;
  let i = 0;
  let j = 0;
  while (i < prev.length && j < next.length) {
    const pod = prev[i]!;
    if (pod === next[j]) {
      i++;
      j++;
      continue;
    }
    // Pods inserted before it in `next`, or it was removed or replaced.
    let at = -1;
    for (let d = 1; d <= LOOKAHEAD && j + d < next.length; d++) {
      if (next[j + d] === pod) {
        at = j + d;
        break;
      }
    }
    if (at < 0) {
      positions ??= new Map(next.map((p, k) => [p, k]));
      at = positions.get(pod) ?? -1;
    }
    if (at > j) while (j < at) fresh.push(next[j++]!);
    else {
      gone.push(pod);
      i++;
    }
  }
  gone.push(...prev.slice(i));
  fresh.push(...next.slice(j));

  const goneByKey = new Map<string, InventoryPod[]>();
  for (const pod of gone) {
    const list = goneByKey.get(podKey(pod));
    if (list) list.push(pod);
    else goneByKey.set(podKey(pod), [pod]);
  }
  const unchanged = new Set<InventoryPod>();
  const added: InventoryPod[] = [];
  for (const pod of fresh) {
    const same = goneByKey.get(podKey(pod))?.find((old) => !unchanged.has(old) && isDeepStrictEqual(old, pod));
    if (same) unchanged.add(same);
    else added.push(pod);
  }
  return { removed: gone.filter((p) => !unchanged.has(p)), added };
}

/** Whether everything but the pods is the same (objects compared in full where not identical). */
export function sameApartFromPods(a: Inventory, b: Inventory): boolean {
  const same = <T>(x: readonly T[], y: readonly T[]): boolean => x === y || (x.length === y.length && x.every((v, k) => v === y[k] || isDeepStrictEqual(v, y[k])));
  return same(a.namespaces, b.namespaces) && same(a.nodes, b.nodes) && same(a.services, b.services);
}
