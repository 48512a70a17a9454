import type { Ir } from '../ir/types.js';
import type { Inventory } from '../inventory/index.js';
import { evaluate, type L4Protocol, type Verdict } from './evaluate.js';

export interface MatrixPort {
  protocol: L4Protocol;
  port?: number;
}

export interface MatrixCell {
  /** `namespace/name` of the client and server pods. */
  from: string;
  to: string;
  port: MatrixPort;
  verdict: Verdict;
}

/** Every (client pod, server pod, port) of the inventory, on the first IP pair of one family. */
export function reachabilityMatrix(ir: Ir, inventory: Inventory, ports: readonly MatrixPort[]): MatrixCell[] {
  const pods = inventory.pods.filter((p) => !p.hostNetwork && p.ips.length > 0);
  const cells: MatrixCell[] = [];
  for (const from of pods) {
    for (const to of pods) {
      const src = from.ips[0]!;
      const dst = to.ips.find((ip) => ip.includes(':') === src.includes(':'));
      if (dst === undefined) continue;
      for (const port of ports) {
        const { verdict } = evaluate(ir, inventory, { src, dst, ...port });
        cells.push({ from: `${from.namespace}/${from.name}`, to: `${to.namespace}/${to.name}`, port, verdict });
      }
    }
  }
  return cells;
}
