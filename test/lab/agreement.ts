import { expect } from 'vitest';
import { evaluate, type Connection, type Verdict } from '../../src/explain/index.js';
import type { Inventory } from '../../src/inventory/index.js';
import type { Ir } from '../../src/ir/types.js';
import type { Lab, LabResult } from './netns.js';

/** What the packets of one probe did, next to the connection it stands for. */
export interface ProbedConnection {
  text: string;
  connection: Connection;
  result: LabResult;
  /** The verdict the test's own table expects; the evaluator must give it too. */
  expect?: Verdict;
}

/** One line per probe whose packets disagree with the evaluator (or the expected verdict, or both). */
export function disagreements(ir: Ir, inv: Inventory, probed: readonly ProbedConnection[]): string[] {
  return probed.flatMap(({ text, connection, result, expect: expected }) => {
    const oracle = evaluate(ir, inv, connection).verdict;
    const want = expected ?? oracle;
    return result.outcome === want && oracle === want ? [] : [`${text}: ${expected ? `expected ${expected}, ` : ''}evaluator ${oracle}, packets ${result.outcome} (${result.code})`];
  });
}

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
  const probed = probes.map((p, i) => ({ text: `${p.from} -> ${p.to} ${p.protocol}/${p.port}`, connection: { src: address.get(p.from)!, dst: address.get(p.to)!, protocol: p.protocol, port: p.port }, result: results[i]! }));
  expect(disagreements(ir, inv, probed)).toEqual([]);
}
