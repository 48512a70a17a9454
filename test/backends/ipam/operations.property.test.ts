/**
 * Random sequences of ADD, DEL and CNI GC on the file store against a model of what the
 * runtime believes: live attachments keep exactly their addresses, nothing else is
 * leased (no leak), StatefulSet pods always get their ordinal address, and an ADD fails
 * only when its pool really is full.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseCidr } from '../../../src/backends/ipam/addresses.js';
import { IpamError } from '../../../src/backends/ipam/errors.js';
import { PlanLayout } from '../../../src/backends/ipam/layout.js';
import { isTorn, type Lease } from '../../../src/backends/ipam/lease.js';
import { addAttachment, deleteAttachment, gcAttachments } from '../../../src/backends/ipam/operations.js';
import { FileLeaseStore } from '../../../src/backends/ipam/store/index.js';
import { scenarioPlan } from './fixtures/plans.js';
import { removeDir, tempDir } from './fixtures/real-parts.js';

const layout = new PlanLayout(scenarioPlan(), { subnets: [{ cidr: parseCidr('10.10.0.0/16')! }], gateways: [] });
const PODS = ['web-5d9c7b-aaaaa', 'web-5d9c7b-bbbbb', 'web-5d9c7b-ccccc', 'web-6e0d8c-ddddd', 'mysql-0', 'mysql-3', 'legacy-db'];

type Op = { kind: 'add'; pod: number } | { kind: 'del'; pick: number } | { kind: 'gc'; keep: boolean[] };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('add' as const), pod: fc.nat(PODS.length - 1) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('del' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('gc' as const), keep: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }) }) },
);

describe('IPAM operations, model-based', () => {
  it('keep the store equal to the runtime\'s view under any sequence', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 40 }), async (ops) => {
        const dir = tempDir();
        try {
          const store = new FileLeaseStore(dir, 'net');
          const live = new Map<string, { pod: string; ips: string[] }>(); // containerId → what ADD returned
          let serial = 0;
          for (const o of ops) {
            if (o.kind === 'add') {
              const name = PODS[o.pod]!;
              const containerId = `c${serial++}`;
              try {
                const leases = await addAttachment(store, layout, { containerId, ifname: 'eth0' }, { namespace: 'acme-prod', name, uid: containerId, annotations: {}, namespaceLabels: {} }, { kind: 'none' });
                // A pod identity holds its exact address once: a new container takes it over.
                for (const [cid, a] of live) if (a.pod === name && /^mysql|legacy/.test(name)) live.delete(cid);
                live.set(containerId, { pod: name, ips: leases.map((l) => l.ip) });
                if (name === 'mysql-3') expect(leases.map((l) => l.ip)).toEqual(['10.10.0.43']);
                if (name === 'legacy-db') expect(leases.map((l) => l.ip)).toEqual(['10.10.0.5']);
              } catch (e) {
                // Only a full pool may refuse (the web pool has 11 addresses).
                if (!(e instanceof IpamError) || e.cniCode !== 110) throw e;
                const held = (await store.list()).filter((r) => !isTorn(r) && r.pool === 'pool:web-pool').length;
                expect(BigInt(held)).toBe(layout.pool('pool:web-pool')!.space.size);
              }
            } else if (o.kind === 'del') {
              const ids = [...live.keys()];
              const containerId = ids.length ? ids[o.pick % ids.length]! : 'never-added';
              live.delete(containerId);
              await deleteAttachment(store, { containerId, ifname: 'eth0' });
            } else {
              const ids = [...live.keys()];
              const valid = ids.filter((_, i) => o.keep[i % o.keep.length]);
              for (const id of ids) if (!valid.includes(id)) live.delete(id);
              await gcAttachments(store, valid.map((containerId) => ({ containerId, ifname: 'eth0' })), 0);
            }
            const records = await store.list();
            expect(records.filter(isTorn)).toEqual([]);
            const active = (records as Lease[]).filter((l) => l.state === 'active');
            const expected = [...live].flatMap(([cid, a]) => a.ips.map((ip) => `${ip} ${cid}`)).sort();
            expect(active.map((l) => `${l.ip} ${l.containerId}`).sort()).toEqual(expected);
            // Released leases are sticky ones only, each on its ordinal address.
            for (const l of (records as Lease[]).filter((r) => r.state === 'released')) {
              expect(l.sticky).toBeDefined();
              expect(layout.pool(l.pool!)!.space.at(BigInt(l.sticky!.ordinal))).toBe(l.ip);
            }
          }
        } finally {
          removeDir(dir);
        }
      }),
      { numRuns: 15 },
    );
  });
});
