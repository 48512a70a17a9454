import { describe, expect, test } from 'vitest';
import { netintent } from '../run.js';

describe('netintent node run: where the inventory comes from', () => {
  test.each([
    [['examples'], 'neither'],
    [['examples', '--inventory', 'inv.yaml', '--from-api'], 'both'],
    [['examples', '--inventory', 'inv.yaml', '--kubeconfig', 'kc'], '--kubeconfig without --from-api'],
  ])('%j (%s) is a usage error that names the choice', async (args, _why) => {
    const r = await netintent(['node', 'run', ...args, '--node', 'n1'], process.cwd());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('exactly one of --inventory FILE and --from-api');
  });

  test('--help lists both sources', async () => {
    const r = await netintent(['node', 'run', '--help'], process.cwd());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--from-api');
    expect(r.stdout).toContain('--kubeconfig <file>');
  });
});
