/**
 * Applying rulesets safely on a real node namespace: atomic failure, idempotence, other
 * tables untouched, incremental updates equal to a full render, reject fast vs drop slow.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { renderNodeRuleset, renderNodeUpdate } from '../../src/backends/nftables/index.js';
import { conformanceCases, endpointIp } from '../fixtures/conformance.js';
import { e2eInventory } from '../fixtures/ir.js';
import { useLab, type LabProbe } from './netns.js';
import { expectAgreement } from './agreement.js';
import type { Inventory } from '../../src/inventory/index.js';

const inventory = e2eInventory();
const byName = (name: string) => conformanceCases.find((c) => c.name.startsWith(name))!;
const ya = (proto: 'tcp' | 'udp', port: number, to = 'x/a'): LabProbe => ({ from: 'y/a', host: endpointIp(inventory, to, 4), protocol: proto, port });

describe('lab: applying rulesets', () => {
  const lab = useLab(inventory, 'n1');

  it('a failing nft -f leaves the previous ruleset in force', async () => {
    const good = renderNodeRuleset(byName('default deny ingress').ir, inventory, 'n1').script;
    expect((await lab().apply(good)).ok).toBe(true);
    const before = (await lab().listTable()).stdout;
    // A script that would open everything but fails half-way (unknown set) must change nothing.
    const open = renderNodeRuleset(byName('allow-all when nothing').ir, inventory, 'n1').script;
    const broken = open.replace(/\n\}\n$/, '\n\tchain broken {\n\t\tip saddr @no_such_set accept\n\t}\n}\n');
    const result = await lab().apply(broken);
    expect(result.ok).toBe(false);
    expect(result.stderr).toMatch(/no_such_set/);
    expect((await lab().listTable()).stdout).toBe(before);
    expect((await lab().probeConfirmed([ya('tcp', 80)])).map((r) => r.outcome)).toEqual(['deny']);
  });

  it('applying the same script twice changes nothing, and other tables are left alone', async () => {
    execFileSync('ip', ['netns', 'exec', lab().nodeNs, 'nft', '-f', '-'], { input: 'table inet other {\n\tchain keep {\n\t\ttype filter hook forward priority 10; policy accept;\n\t\tcounter\n\t}\n}\n' });
    const other = (): string => execFileSync('ip', ['netns', 'exec', lab().nodeNs, 'nft', 'list', 'table', 'inet', 'other']).toString().replace(/packets \d+ bytes \d+/g, '');
    const otherBefore = other();
    const script = renderNodeRuleset(byName('tenant strict').ir, inventory, 'n1').script;
    expect((await lab().apply(script)).ok).toBe(true);
    const once = (await lab().listTable()).stdout;
    expect((await lab().apply(script)).ok).toBe(true);
    expect((await lab().listTable()).stdout).toBe(once);
    expect(other()).toBe(otherBefore);
    execFileSync('ip', ['netns', 'exec', lab().nodeNs, 'nft', 'delete', 'table', 'inet', 'other']);
  });

  it('reject answers at once (ICMP admin-prohibited) while deny leaves the client waiting', async () => {
    const rej = byName('reject vs drop');
    expect((await lab().apply(renderNodeRuleset(rej.ir, inventory, 'n1').script)).ok).toBe(true);
    const t0 = performance.now();
    const [rejected] = await lab().probe([ya('tcp', 80)], 2000);
    const rejectMs = performance.now() - t0;
    const t1 = performance.now();
    const [dropped] = await lab().probe([ya('tcp', 81)], 700);
    const dropMs = performance.now() - t1;
    expect(rejected).toEqual({ outcome: 'reject', code: 'EHOSTUNREACH' });
    expect(rejectMs).toBeLessThan(500);
    expect(dropped!.outcome).toBe('deny');
    expect(dropMs).toBeGreaterThanOrEqual(690);
  });

  it('an incremental update equals the full ruleset of the new inventory, and enforces it', async () => {
    const c = byName('peers OR');
    // Churn: x/c is relabelled pod=b (now a peer of x/a), y/c disappears from the inventory.
    const next: Inventory = {
      ...inventory,
      pods: inventory.pods.filter((p) => !(p.namespace === 'y' && p.name === 'c')).map((p) => (p.namespace === 'x' && p.name === 'c' ? { ...p, labels: { pod: 'b' } } : p)),
    };
    const full = renderNodeRuleset(c.ir, next, 'n1').script;
    expect((await lab().apply(full)).ok).toBe(true);
    const expected = (await lab().listTable()).stdout;

    expect((await lab().apply(renderNodeRuleset(c.ir, inventory, 'n1').script)).ok).toBe(true);
    const update = renderNodeUpdate(inventory, next, c.ir, 'n1');
    expect(update.kind).toBe('elements');
    const applied = await lab().apply(update.script);
    expect(applied.stderr).toBe('');
    expect((await lab().listTable()).stdout).toBe(expected);

    await expectAgreement(lab(), c.ir, next);
  });
});
