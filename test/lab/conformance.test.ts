/**
 * Conformance on real packets: every case is compiled for node n1, applied in the lab's
 * node namespace, and probed; the dataplane must agree with the expected table AND with
 * the evaluator on every probe, plus on a full reachability matrix.
 */
import { describe, expect, it } from 'vitest';
import { renderNodeRuleset } from '../../src/backends/nftables/index.js';
import { hasErrors } from '../../src/diagnostics/diagnostic.js';
import { conformanceCases, endpointIp, type Probe } from '../fixtures/conformance.js';
import { e2eInventory } from '../fixtures/ir.js';
import { useLab, type LabProbe } from './netns.js';
import { disagreements, type ProbedConnection } from './agreement.js';

const inventory = e2eInventory();
const podKeys = inventory.pods.map((p) => `${p.namespace}/${p.name}`);

/** Every client × server × port on IPv4, plus pod-to-pod TCP/80 on IPv6. */
function matrix(): Omit<Probe, 'expect' | 'text'>[] {
  const out: Omit<Probe, 'expect' | 'text'>[] = [];
  for (const from of [...podKeys, 'ext', 'node'])
    for (const to of [...podKeys, 'ext'])
      if (from !== to)
        for (const protocol of ['tcp', 'udp'] as const) for (const port of [80, 81]) out.push({ from, to, protocol, port, family: 4 });
  for (const from of podKeys) for (const to of podKeys) if (from !== to) out.push({ from, to, protocol: 'tcp', port: 80, family: 6 });
  return out;
}

describe('lab: NetworkPolicy and intent conformance on real packets', () => {
  const lab = useLab(inventory, 'n1');

  for (const c of conformanceCases) {
    it(c.name, async () => {
      const { script, diagnostics } = renderNodeRuleset(c.ir, c.inventory, 'n1');
      expect(hasErrors(diagnostics)).toBe(false);
      const applied = await lab().apply(script);
      expect(applied.stderr).toBe('');
      expect(applied.ok).toBe(true);

      const probes = [...c.probes, ...matrix()];
      const labProbes: LabProbe[] = probes.map((p) => ({ from: p.from, host: endpointIp(c.inventory, p.to, p.family), protocol: p.protocol, port: p.port }));
      const outcomes = await lab().probeConfirmed(labProbes);
      const probed: ProbedConnection[] = probes.map((p, i) => ({
        text: `${p.from} -> ${p.to} ${p.protocol}/${p.port}${p.family === 6 ? '/6' : ''}`,
        connection: { src: endpointIp(c.inventory, p.from, p.family), dst: endpointIp(c.inventory, p.to, p.family), protocol: p.protocol, port: p.port },
        result: outcomes[i]!,
        ...('expect' in p ? { expect: (p as Probe).expect } : {}),
      }));
      expect(disagreements(c.ir, c.inventory, probed)).toEqual([]);
    });
  }
});
