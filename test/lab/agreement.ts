import { expect } from 'vitest';
import { evaluate } from '../../src/explain/index.js';
import type { Inventory } from '../../src/inventory/index.js';
import type { Ir } from '../../src/ir/types.js';
import type { Lab } from './netns.js';

/**
 * Every lab host to every server (TCP/80 and UDP/81, IPv4): the packets must match the
 * evaluator run on `inv` (which may differ from the lab's wiring, e.g. after churn).
 */
export async function expectAgreement(lab: Lab, ir: Ir, inv: Inventory): Promise<void> {
  const address = new Map([...lab.hosts.keys()].map((k) => [k, lab.addressOf(k)]));
  const servers = [...address.keys()].filter((k) => !k.startsWith('node'));
  const probes: { from: string; to: string; protocol: 'tcp' | 'udp'; port: number }[] = [];
  for (const from of address.keys()) for (const to of servers) if (from !== to && (from.includes('/') || to.includes('/'))) for (const protocol of ['tcp', 'udp'] as const) probes.push({ from, to, protocol, port: protocol === 'tcp' ? 80 : 81 });
  const results = await lab.probeConfirmed(probes.map((p) => ({ from: p.from, host: address.get(p.to)!, protocol: p.protocol, port: p.port })));
  const wrong = probes.flatMap((p, i) => {
    const oracle = evaluate(ir, inv, { src: address.get(p.from)!, dst: address.get(p.to)!, protocol: p.protocol, port: p.port }).verdict;
    return results[i]!.outcome === oracle ? [] : [`${p.from} -> ${p.to} ${p.protocol}/${p.port}: evaluator ${oracle}, packets ${results[i]!.outcome} (${results[i]!.code})`];
  });
  expect(wrong).toEqual([]);
}
