/**
 * The long-lived `tc`/`ip` batch sessions, in a scratch network namespace: transactions run
 * in order, a failing command is reported with its own error while the others still run,
 * and the session outlives failures.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iproute2Dialect, ToolSession } from '../../src/backends/tool-session.js';
import { deleteNamespaces, requireTools } from '../lab/netns.js';

describe('iproute2 batch sessions', () => {
  const netns = `nit-${process.pid}-${randomBytes(3).toString('hex')}-tool`;
  let tc: ToolSession;
  let ip: ToolSession;
  const qdiscs = (dev: string): string => execFileSync('tc', ['-n', netns, 'qdisc', 'show', 'dev', dev], { encoding: 'utf8' });

  beforeAll(() => {
    requireTools({ ip: 'iproute2', tc: 'iproute2' });
    execFileSync('ip', ['netns', 'add', netns]);
    tc = new ToolSession(iproute2Dialect('tc', netns));
    ip = new ToolSession(iproute2Dialect('ip', netns));
  });
  afterAll(() => {
    tc?.close();
    ip?.close();
    deleteNamespaces([netns]);
  });

  it('runs transactions one after another, each in order', async () => {
    const links = await ip.run(['link add d0 type ifb', 'link set d0 up']);
    expect(links).toMatchObject({ ok: true, stderr: '' });
    const r = await tc.run(['qdisc replace dev d0 root handle 1a1e: htb default 1', 'class replace dev d0 parent 1a1e: classid 1a1e:1 htb rate 1mbit']);
    expect(r).toMatchObject({ ok: true, stderr: '' });
    expect(qdiscs('d0')).toMatch(/qdisc htb 1a1e: root/);
  });

  it('reports a failing command with its own error; the others still run and the session goes on', async () => {
    const r = await tc.run(['qdisc replace dev nosuch0 root htb', 'qdisc replace dev d0 handle ffff: ingress']);
    expect(r.ok).toBe(false);
    expect(r.stderr).toMatch(/Cannot find device "nosuch0"\nCommand failed -:\d+\n$/);
    expect(r.stderr).not.toContain('ni/'); // the end marker's own error is not the transaction's
    expect(qdiscs('d0')).toMatch(/qdisc ingress ffff:/);
    expect(await tc.run(['qdisc del dev d0 ingress'])).toMatchObject({ ok: true, stderr: '' });
    expect(qdiscs('d0')).not.toMatch(/ingress/);
    const again = await ip.run(['link add d0 type ifb']);
    expect(again).toMatchObject({ ok: false });
    expect(again.stderr).toMatch(/File exists/);
  });

  it('returns what dumps print, one line each, also when one of them fails', async () => {
    const reads = new ToolSession(iproute2Dialect('ip', netns, ['-j']));
    try {
      for (let round = 0; round < 20; round++) {
        const r = await reads.run(['link show dev d0', 'link show dev lo'], 2);
        expect(r.ok).toBe(true);
        expect(r.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { ifname: string }[])[0]!.ifname)).toEqual(['d0', 'lo']);
      }
      const partly = await reads.run(['link show dev nosuch0', 'link show dev lo'], 2);
      expect(partly.ok).toBe(false);
      expect(partly.stdout.split('\n').filter(Boolean)).toHaveLength(1);
      expect((await reads.run(['link show dev lo'], 1)).stdout).toMatch(/^\[\{"ifindex":1,"ifname":"lo"/);
    } finally {
      reads.close();
    }
  });

  it('a transaction that outlives its timeout ends the process and fails; the next one starts a new process', async () => {
    const slow = new ToolSession({ ...iproute2Dialect('tc', netns), argv: ['sleep', '5'] }, 200);
    const r = await slow.run(['qdisc show']);
    expect(r).toMatchObject({ ok: false, stderr: expect.stringMatching(/session ended: signal SIGKILL/) });
    slow.close();
  });
});
