/**
 * The long-lived `nft -i` session for element transactions, in a scratch network namespace:
 * each script is one atomic transaction, a failing one changes nothing and says why, and
 * the session outlives failures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { applyNftScript, listNftTable } from '../../../src/backends/nftables/apply.js';
import { NftSession } from '../../../src/backends/nftables/session.js';
import { deleteNamespaces, requireTools } from '../../lab/netns.js';

describe('nft session', () => {
  const netns = `nit-${process.pid}-${randomBytes(3).toString('hex')}-sess`;
  let session: NftSession;
  const elements = async (): Promise<string> => /elements = \{([^}]*)\}/.exec((await listNftTable({ netns })).stdout)?.[1]?.replace(/\s+/g, ' ').trim() ?? '';

  beforeAll(async () => {
    requireTools();
    execFileSync('ip', ['netns', 'add', netns]);
    const r = await applyNftScript('table inet netintent {\n  set pods { type ipv4_addr; }\n}\n', { netns });
    expect(r.stderr).toBe('');
    session = new NftSession({ netns });
  });
  afterAll(() => {
    session?.close();
    deleteNamespaces([netns]);
  });

  it('carries only element scripts', () => {
    expect(NftSession.carries('#!/usr/sbin/nft -f\n# update\ndelete element inet netintent pods { 10.0.0.1 }\nadd element inet netintent pods { 10.0.0.2, 10.0.0.3 }\n')).toBe(true);
    expect(NftSession.carries('')).toBe(false);
    expect(NftSession.carries('add table inet netintent\ndelete table inet netintent\n')).toBe(false);
    expect(NftSession.carries('table inet netintent {\n  set s { type ipv4_addr; }\n}\n')).toBe(false);
  });

  it('applies element scripts as transactions, one after another', async () => {
    expect(await session.run('add element inet netintent pods { 10.0.0.1, 10.0.0.2 }\n')).toMatchObject({ ok: true, stderr: '' });
    const [a, b] = await Promise.all([
      session.run('# churn\ndelete element inet netintent pods { 10.0.0.1 }\nadd element inet netintent pods { 10.0.0.3 }\n'),
      session.run('add element inet netintent pods { 10.0.0.4 }\n'),
    ]);
    expect([a.ok, b.ok]).toEqual([true, true]);
    expect(await elements()).toBe('10.0.0.2, 10.0.0.3, 10.0.0.4');
  });

  it('a failing transaction changes nothing, says why, and the session goes on', async () => {
    const r = await session.run('add element inet netintent pods { 10.0.0.9 }\ndelete element inet netintent pods { 10.0.0.99 }\n');
    expect(r.ok).toBe(false);
    expect(r.stderr).toMatch(/Error: .*No such file or directory/);
    expect(r.stderr).toContain('10.0.0.99');
    expect(await elements()).toBe('10.0.0.2, 10.0.0.3, 10.0.0.4');
    expect((await session.run('delete element inet netintent pods { 10.0.0.4 }\n')).ok).toBe(true);
    expect(await elements()).toBe('10.0.0.2, 10.0.0.3');
  });

  it('keeps its owner alive while a transaction is in flight, and not once idle', () => {
    // A script that ends on its own only if the idle session lets the process exit, and
    // prints its answer only if the process waited for it.
    const dir = mkdtempSync(join(tmpdir(), 'netintent-session-'));
    try {
      const script = join(dir, 'owner.ts');
      const module = resolve('src/backends/nftables/session.ts');
      writeFileSync(script, `import { NftSession } from ${JSON.stringify(module)};\nconst r = await new NftSession({ netns: ${JSON.stringify(netns)} }).run('add element inet netintent pods { 10.0.0.7 }');\nconsole.log('answer', r.ok);\n`);
      const owner = spawnSync(resolve('node_modules/.bin/vite-node'), [script], { encoding: 'utf8', timeout: 30_000 });
      expect(owner.signal, 'the process did not exit by itself').toBeNull();
      expect(owner.stdout).toContain('answer true');
      expect(owner.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
