/**
 * Gateway health: every agent answers TCP connects on its health port; each agent probes
 * the candidate gateway nodes and calls a node down after `failAfter` missed probes in a
 * row (up again after one answer). All agents see the same answers and pick the same
 * active gateway: the first healthy candidate in the intent's order.
 */
import net from 'node:net';
import type { GatewayCandidate } from '../backends/egress/index.js';

export const DEFAULT_HEALTH_PORT = 9464;

export function startHealthServer(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((s) => {
      s.on('error', () => {});
      s.end('ok\n');
    });
    server.once('error', reject);
    server.listen({ port, host: '::', ipv6Only: false }, () => resolve(server));
  });
}

function probe(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: address, port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export interface HealthOptions {
  self: string;
  port: number;
  intervalMs: number;
  timeoutMs: number;
  failAfter: number;
}

export class GatewayHealth {
  private readonly misses = new Map<string, number>();
  private candidates: GatewayCandidate[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: HealthOptions,
    private readonly onChange: () => void,
  ) {}

  /** Nodes never probed count as healthy: a fresh agent does not move a working gateway. */
  isUp(node: string): boolean {
    return node === this.opts.self || (this.misses.get(node) ?? 0) < this.opts.failAfter;
  }

  /** The first healthy candidate. */
  active(candidates: readonly GatewayCandidate[]): string | undefined {
    return candidates.find((c) => this.isUp(c.node))?.node;
  }

  /**
   * Probes candidates never probed before, once, and takes a miss as down: an agent that
   * (re)starts routes to a gateway that answers, not to a dead one it has not yet tried.
   */
  async prime(candidates: readonly GatewayCandidate[]): Promise<void> {
    const fresh = candidates.filter((c) => c.node !== this.opts.self && !this.misses.has(c.node));
    const results = await Promise.all(fresh.map(async (c) => ({ c, ok: await probe(c.address, this.opts.port, this.opts.timeoutMs) })));
    for (const { c, ok } of results) this.misses.set(c.node, ok ? 0 : this.opts.failAfter);
  }

  watch(candidates: readonly GatewayCandidate[]): void {
    const seen = new Set<string>();
    this.candidates = candidates.filter((c) => c.node !== this.opts.self && !seen.has(c.node) && seen.add(c.node));
    if (!this.timer && this.candidates.length) this.timer = setInterval(() => void this.round(), this.opts.intervalMs);
  }

  private async round(): Promise<void> {
    const results = await Promise.all(this.candidates.map(async (c) => ({ c, ok: await probe(c.address, this.opts.port, this.opts.timeoutMs) })));
    let changed = false;
    for (const { c, ok } of results) {
      const before = this.isUp(c.node);
      this.misses.set(c.node, ok ? 0 : (this.misses.get(c.node) ?? 0) + 1);
      if (before !== this.isUp(c.node)) changed = true;
    }
    if (changed) this.onChange();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
