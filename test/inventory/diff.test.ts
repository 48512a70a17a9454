import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { diffPods, sameApartFromPods, type InventoryPod } from '../../src/inventory/index.js';
import { pod } from '../fixtures/ir.js';

const podAt = (k: number, label = 'a'): InventoryPod => pod({ ns: `ns${k % 3}`, name: `p${k}`, ip: `10.0.${k >> 8}.${k & 255}`, labels: { app: label } });
const canonical = (pods: readonly InventoryPod[]): string[] => pods.map((p) => JSON.stringify(p)).sort();

describe('diffPods', () => {
  it('prev without removed plus added is next, whatever was kept, replaced, moved, cloned or relabelled', () => {
    const edit = fc.oneof(
      fc.record({ op: fc.constant('keep' as const) }),
      fc.record({ op: fc.constant('drop' as const) }),
      fc.record({ op: fc.constant('clone' as const) }),
      fc.record({ op: fc.constant('relabel' as const) }),
      fc.record({ op: fc.constant('insert' as const), k: fc.nat(50) }),
    );
    fc.assert(
      fc.property(fc.array(edit, { maxLength: 60 }), fc.nat(), (edits, rotate) => {
        const prev = edits.map((_, k) => podAt(k));
        let next: InventoryPod[] = edits.flatMap((e, k): InventoryPod[] => {
          const p = prev[k]!;
          if (e.op === 'drop') return [];
          if (e.op === 'clone') return [structuredClone(p)];
          if (e.op === 'relabel') return [{ ...p, labels: { app: 'b' } }];
          if (e.op === 'insert') return [podAt(1000 + e.k, 'c'), p];
          return [p];
        });
        if (rotate % 4 === 0 && next.length > 0) next = [...next.slice(rotate % next.length), ...next.slice(0, rotate % next.length)];
        const { removed, added } = diffPods(prev, next);
        for (const p of removed) expect(prev).toContain(p);
        for (const p of added) expect(next).toContain(p);
        const rest = [...prev];
        for (const p of removed) rest.splice(rest.indexOf(p), 1);
        expect(canonical([...rest, ...added])).toEqual(canonical(next));
        // Kept and cloned pods are no change.
        const changed = edits.filter((e) => e.op === 'drop' || e.op === 'relabel').length;
        expect(removed.length).toBe(changed);
      }),
      { numRuns: 300 },
    );
  });

  it('compares everything but the pods in full', () => {
    const inv = { namespaces: [{ name: 'a', labels: {} }], pods: [], nodes: [], services: [] };
    expect(sameApartFromPods(inv, structuredClone(inv))).toBe(true);
    expect(sameApartFromPods(inv, { ...inv, namespaces: [{ name: 'a', labels: { x: 'y' } }] })).toBe(false);
  });
});
