/** CNI operations on the file store, in-process (the plugin's code path without the process). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PodFacts } from '../../../src/backends/ipam/allocation.js';
import { parseCidr } from '../../../src/backends/ipam/addresses.js';
import { IpamError } from '../../../src/backends/ipam/errors.js';
import { PlanLayout } from '../../../src/backends/ipam/layout.js';
import { isTorn, type Lease } from '../../../src/backends/ipam/lease.js';
import { addAttachment, checkAttachment, deleteAttachment, gcAttachments } from '../../../src/backends/ipam/operations.js';
import { FileLeaseStore, type ClaimCompanions, type LeaseStore } from '../../../src/backends/ipam/store/index.js';
import { IPAM_PLAN_VERSION } from '../../../src/backends/ipam/plan.js';
import { IR_VERSION } from '../../../src/ir/types.js';
import { pool, scenarioPlan } from './fixtures/plans.js';
import { removeDir, tempDir } from './fixtures/real-parts.js';

const none = { kind: 'none' } as const;
const pod = (namespace: string, name: string, uid = ''): PodFacts => ({ namespace, name, uid, annotations: {}, namespaceLabels: {} });
const layout = new PlanLayout(scenarioPlan(), { subnets: [{ cidr: parseCidr('10.10.0.0/16')!, gateway: '10.10.0.1' }], gateways: [] });

describe('IPAM operations on the file store', () => {
  let dir: string;
  let store: FileLeaseStore;
  beforeEach(() => {
    dir = tempDir();
    store = new FileLeaseStore(dir, 'net1');
  });
  afterEach(() => removeDir(dir));

  const add = (cid: string, p: PodFacts, l = layout) => addAttachment(store, l, { containerId: cid, ifname: 'eth0' }, p, none);
  const del = (cid: string) => deleteAttachment(store, { containerId: cid, ifname: 'eth0' });

  it('claims one human-readable file per IP and repeats an ADD idempotently', async () => {
    const [lease] = await add('c1', pod('acme-prod', 'web-5d9c7b-abcde'));
    expect(lease!.ip).toBe('10.10.0.10');
    const text = readFileSync(join(dir, 'net1/leases/10.10.0.10'), 'utf8');
    expect(JSON.parse(text)).toMatchObject({ ip: '10.10.0.10', containerId: 'c1', pod: { name: 'web-5d9c7b-abcde' }, state: 'active' });
    expect(text.split('\n').length).toBeGreaterThan(5);
    expect((await add('c1', pod('acme-prod', 'web-5d9c7b-abcde')))[0]!.ip).toBe('10.10.0.10');
    expect((await add('c2', pod('acme-prod', 'web-5d9c7b-fghij')))[0]!.ip).toBe('10.10.0.11');
    expect(await store.claim(lease!)).toBe(false);
  });

  it('a repeated ADD keeps the family it still holds and claims only the lost one', async () => {
    const tool = pod('acme-dev', 'tool');
    // No configured IPv6 subnet: the pool's /120 is, so ::100 (network) and ::101 (gateway) are skipped.
    expect((await add('c1', tool)).map((l) => l.ip)).toEqual(['10.10.1.10', 'fd00:10::102']);
    await store.update('fd00:10::102', () => null); // lost behind its back
    expect((await add('c1', tool)).map((l) => l.ip)).toEqual(['10.10.1.10', 'fd00:10::103']);
    expect((await store.list()).map((r) => r.ip).sort()).toEqual(['10.10.1.10', 'fd00:10::103']);
    expect(await store.readAttachment('c1', 'eth0')).toEqual(['10.10.1.10', 'fd00:10::103']);
  });

  it('DEL is idempotent and frees the address', async () => {
    await add('c1', pod('acme-prod', 'web-5d9c7b-abcde'));
    expect((await del('c1')).map((l) => l.ip)).toEqual(['10.10.0.10']);
    expect(await del('c1')).toEqual([]);
    expect(await del('never-added')).toEqual([]);
    expect(existsSync(join(dir, 'net1/leases/10.10.0.10'))).toBe(false);
  });

  it('keeps a StatefulSet lease on DEL and gives it back to the same pod identity', async () => {
    await add('old', pod('acme-prod', 'mysql-1', 'uid-a'));
    await del('old');
    const kept = (await store.read('10.10.0.41')) as Lease;
    expect(kept).toMatchObject({ state: 'released', sticky: { statefulSet: 'mysql', ordinal: 1 } });
    // Another pod cannot ask for it; mysql-1 (new uid, new container, maybe another node) gets it back.
    await expect(addAttachment(store, layout, { containerId: 'x', ifname: 'eth0' }, pod('acme-prod', 'intruder'), { kind: 'ips', ips: ['10.10.0.41'], source: 'test' })).rejects.toThrow(/not one this pod may use/);
    expect((await add('new', pod('acme-prod', 'mysql-1', 'uid-b')))[0]!.ip).toBe('10.10.0.41');
    // A late DEL of the old container leaves the new one's lease alone.
    await del('old');
    await checkAttachment(store, { containerId: 'new', ifname: 'eth0' }, ['10.10.0.41']);
  });

  it('a recreated fixed-IP pod takes its address over even before the old DEL', async () => {
    await add('old', pod('acme-prod', 'legacy-db', 'uid-a'));
    expect((await add('new', pod('acme-prod', 'legacy-db', 'uid-b')))[0]!.ip).toBe('10.10.0.5');
    await del('old');
    expect(await store.read('10.10.0.5')).toMatchObject({ containerId: 'new', state: 'active' });
  });

  it('says clearly who holds an exhausted pool', async () => {
    const small = new PlanLayout(
      {
        version: IPAM_PLAN_VERSION,
        irVersion: IR_VERSION,
        pools: [pool('tiny', 4, [['10.40.0.2', '10.40.0.4']], { workload: { kind: 'Deployment', namespace: 'ns', name: 'app' } })],
        fixedIps: [],
        tenants: [],
      },
      { subnets: [{ cidr: parseCidr('10.40.0.0/24')! }], gateways: [] },
    );
    for (const s of ['aaaaa', 'bbbbb', 'ccccc']) await add(`c-${s}`, pod('ns', `app-7f-${s}`), small);
    const error = await add('c-ddddd', pod('ns', 'app-7f-ddddd'), small).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpamError);
    expect((error as IpamError).cniCode).toBe(110);
    expect((error as IpamError).diagnostic.message).toBe('Pool "tiny" exhausted: 3 of 3 addresses leased by ns/app-7f-aaaaa, ns/app-7f-bbbbb, ns/app-7f-ccccc.');
  });

  /** The store, counting its claims. */
  const countingClaims = (): { counting: LeaseStore; claims: () => number } => {
    let n = 0;
    const counting: LeaseStore = Object.assign(Object.create(store) as LeaseStore, {
      claim: (lease: Lease, companions?: ClaimCompanions) => {
        n++;
        return store.claim(lease, companions);
      },
    });
    return { counting, claims: () => n };
  };

  it('stays O(1) per ADD as leases accumulate (one claim attempt each)', async () => {
    const { counting, claims } = countingClaims();
    const big = new PlanLayout(scenarioPlan(), { subnets: [], gateways: [] });
    for (let i = 0; i < 200; i++) {
      await addAttachment(counting, big, { containerId: `c${i}`, ifname: 'eth0' }, pod('default', `p${i}`), none);
    }
    expect(claims()).toBe(200);
  });

  it('ADDs run at once through one store (as in the daemon) do not race each other: one claim each', async () => {
    const { counting, claims } = countingClaims();
    const big = new PlanLayout(scenarioPlan(), { subnets: [], gateways: [] });
    const leases = await Promise.all(Array.from({ length: 8 }, (_, i) => addAttachment(counting, big, { containerId: `c${i}`, ifname: 'eth0' }, pod('default', `p${i}`), none)));
    expect(new Set(leases.map(([l]) => l!.ip)).size).toBe(8);
    expect(claims()).toBe(8);
  });

  it('writes the attachment record with each claim, so DEL finds the leases of an ADD that never finished', async () => {
    const killedAfterClaim: LeaseStore = Object.assign(Object.create(store) as LeaseStore, {
      claim: async (lease: Lease, companions?: ClaimCompanions) => {
        await store.claim(lease, companions);
        throw new Error('killed');
      },
    });
    await expect(addAttachment(killedAfterClaim, layout, { containerId: 'k', ifname: 'eth0' }, pod('acme-prod', 'web-5d9c7b-fghij'), none)).rejects.toThrow('killed');
    expect((await del('k')).map((l) => l.ip)).toEqual(['10.10.0.10']);

    const [lease] = await add('c1', pod('acme-prod', 'web-5d9c7b-abcde'));
    expect(await store.readAttachment('c1', 'eth0')).toEqual([lease!.ip]);
    // An ADD killed after writing its record, before its claim: the record names an address another attachment holds.
    await store.writeAttachment({ containerId: 'killed', ifname: 'eth0', ips: [lease!.ip] });
    expect(await del('killed')).toEqual([]);
    expect(await store.read(lease!.ip)).toMatchObject({ containerId: 'c1', state: 'active' });
    expect(await store.readAttachment('killed', 'eth0')).toBeUndefined();
    // A record emptied by a power loss names nothing; DEL removes it.
    writeFileSync(join(dir, 'net1/attachments/torn_eth0'), '');
    expect(await store.readAttachment('torn', 'eth0')).toEqual([]);
    expect(await del('torn')).toEqual([]);
    expect(existsSync(join(dir, 'net1/attachments/torn_eth0'))).toBe(false);
  });

  it('CNI GC leaves attachment records younger than the grace period to their ADD', async () => {
    await store.writeAttachment({ containerId: 'starting', ifname: 'eth0', ips: ['10.10.0.12'], since: new Date().toISOString() });
    await store.writeAttachment({ containerId: 'stale', ifname: 'eth0', ips: ['10.10.0.13'] });
    await gcAttachments(store, [], 60_000);
    expect((await store.listAttachments()).map((a) => a.containerId)).toEqual(['starting']);
    await gcAttachments(store, [], 0);
    expect(await store.listAttachments()).toEqual([]);
  });

  it('treats an interrupted claim as taken, and GC removes it after the grace period', async () => {
    writeFileSync(join(dir, 'net1/leases/10.10.0.10'), ''); // an ADD killed between create and write
    expect((await add('c1', pod('acme-prod', 'web-5d9c7b-abcde')))[0]!.ip).toBe('10.10.0.11');
    expect(isTorn((await store.read('10.10.0.10'))!)).toBe(true);
    expect((await gcAttachments(store, [{ containerId: 'c1', ifname: 'eth0' }], 60_000)).tornRemoved).toEqual([]);
    expect((await gcAttachments(store, [{ containerId: 'c1', ifname: 'eth0' }], 0)).tornRemoved).toEqual(['10.10.0.10']);
  });

  it('CNI GC releases leases of attachments not in the valid list; sticky ones stay reserved', async () => {
    await add('keep', pod('acme-prod', 'web-5d9c7b-abcde'));
    await add('gone', pod('acme-prod', 'web-5d9c7b-fghij'));
    await add('sts', pod('acme-prod', 'mysql-0'));
    const outcome = await gcAttachments(store, [{ containerId: 'keep', ifname: 'eth0' }], 0);
    expect(outcome.released.map((l) => l.ip).sort()).toEqual(['10.10.0.11', '10.10.0.40']);
    expect(await store.read('10.10.0.11')).toBeUndefined();
    expect(await store.read('10.10.0.40')).toMatchObject({ state: 'released' });
    expect((await store.listAttachments()).map((a) => a.containerId)).toEqual(['keep']);
  });

  it('breaks the per-IP lock of a killed process', async () => {
    await add('c1', pod('acme-prod', 'web-5d9c7b-abcde'));
    writeFileSync(join(dir, 'net1/leases/.10.10.0.10.lock'), '2147483646 dead');
    expect((await del('c1')).map((l) => l.ip)).toEqual(['10.10.0.10']);
  });
});
