/**
 * The tc edge on a real interface in a scratch network namespace: shaping applied, removed
 * and applied again through the same long-lived batch sessions (iproute2 caches device
 * indexes per process, and the ifb is deleted and created again under its name).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ifbName, type PodShaping } from '../../src/backends/tc/index.js';
import { TcEdge } from '../../src/node/tc.js';
import { deleteNamespaces, requireTools } from '../lab/netns.js';

describe('tc edge', () => {
  const netns = `nit-${process.pid}-${randomBytes(3).toString('hex')}-tc`;
  let edge: TcEdge;
  const shaping: PodShaping = { pod: 'a/p', ips: ['10.0.0.1'], ingressBps: 10e6, egressBps: 5e6, reasons: ['test'] };
  const tc = (...args: string[]): string => execFileSync('tc', ['-n', netns, ...args], { encoding: 'utf8' });

  beforeAll(() => {
    requireTools({ ip: 'iproute2', tc: 'iproute2' });
    execFileSync('ip', ['netns', 'add', netns]);
    execFileSync('ip', ['-n', netns, '-batch', '-'], { input: 'link add h0 type veth peer name c0\nlink set h0 up\n' });
    edge = new TcEdge({ netns });
  });
  afterAll(() => {
    edge?.close();
    deleteNamespaces([netns]);
  });

  it('applies, removes and applies again, every time in one batch', async () => {
    const o = await edge.observe();
    for (let round = 0; round < 2; round++) {
      const applied = await edge.applyPods([{ s: shaping, dev: 'h0' }], o);
      expect(applied.get('h0')).toMatchObject({ ok: true });
      expect(tc('class', 'show', 'dev', 'h0')).toMatch(/rate 10Mbit/);
      expect(tc('class', 'show', 'dev', ifbName('h0'))).toMatch(/rate 5Mbit/);
      expect(tc('filter', 'show', 'dev', 'h0', 'ingress')).toContain(`Egress Redirect to device ${ifbName('h0')}`);
      // What the edge tracks is what the kernel holds: the next batch needs no fallback.
      expect(o).toEqual(await edge.observe());
      expect(await edge.removeDevice('h0', o)).toMatchObject({ ok: true });
      expect(tc('qdisc', 'show', 'dev', 'h0')).not.toMatch(/htb|ingress/);
      expect(o).toEqual(await edge.observe());
    }
  });
});
