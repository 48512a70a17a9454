import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';

describe('CLI frame', () => {
  it('an exception inside a command becomes an NI9004 diagnostic, not a crash', async () => {
    let stderr = '';
    let stdout = '';
    const code = await runCli(['boom', '--format', 'json'], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isTty: false, cwd: '/' }, [
      (program) => {
        program
          .command('boom')
          .option('--format <f>')
          .action(() => {
            throw new Error('kaboom');
          });
      },
    ]);
    expect(code).toBe(1);
    expect(JSON.parse(stdout).diagnostics[0]).toMatchObject({ code: 'NI9004', message: expect.stringContaining('kaboom') });
    expect(stderr).toBe('');
  });
});
