/**
 * ICMP type and code matching on real packets: a DSL intent set that admits some ICMP
 * types/codes and not others is compiled for node n1, applied with `nft -f` in the lab's
 * node namespace, and probed from pod x/a: `ping` sends the ordinary echo requests (code 0),
 * icmp-probe.py the requests ping cannot send (echo with code 1, timestamp request). Every
 * probe must match the table below AND the evaluator.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderNodeRuleset } from '../../src/backends/nftables/index.js';
import { hasErrors } from '../../src/diagnostics/diagnostic.js';
import type { Verdict } from '../../src/explain/index.js';
import { compileTexts } from '../../src/sources/index.js';
import { e2eInventory } from '../fixtures/ir.js';
import { endpointIp } from '../fixtures/conformance.js';
import { confirmDrops, useLab, type LabResult } from './netns.js';
import { disagreements } from './agreement.js';

const PROBER = fileURLToPath(new URL('./icmp-probe.py', import.meta.url));

const INTENTS = `
group client { pods pod = a in namespace x }
group echo-any-code { pods pod = a in namespace y }
group echo-code-1 { pods pod = b in namespace y }
group timestamp-only { pods pod = c in namespace y }

policy icmp-lab {
  allow client -> echo-any-code on icmp type 8, icmpv6 type 128
  allow client -> echo-code-1 on icmp type 8 code 1, icmpv6 type 128 code 1
  allow client -> timestamp-only on icmp type 13
  reject client -> timestamp-only on icmp type 8
  deny client -> echo-any-code or echo-code-1 or timestamp-only on icmp, icmpv6
}
`;

// The client and the three servers only: fewer namespaces, a faster lab.
const e2e = e2eInventory();
const inventory = { ...e2e, pods: e2e.pods.filter((p) => ['x/a', 'y/a', 'y/b', 'y/c'].includes(`${p.namespace}/${p.name}`)) };

interface IcmpProbe {
  to: string;
  family: 4 | 6;
  type: number;
  code: number;
  expect: Verdict;
}

const ECHO = { 4: 8, 6: 128 } as const;
const echo = (to: string, family: 4 | 6, code: number, expect: Verdict): IcmpProbe => ({ to, family, type: ECHO[family], code, expect });

const PROBES: IcmpProbe[] = [
  echo('y/a', 4, 0, 'allow'),
  echo('y/a', 4, 1, 'allow'),
  { to: 'y/a', family: 4, type: 13, code: 0, expect: 'deny' },
  echo('y/a', 6, 0, 'allow'),
  echo('y/a', 6, 1, 'allow'),
  // Only code 1 is allowed: a plain ping (code 0) must be dropped.
  echo('y/b', 4, 0, 'deny'),
  echo('y/b', 4, 1, 'allow'),
  { to: 'y/b', family: 4, type: 13, code: 0, expect: 'deny' },
  echo('y/b', 6, 0, 'deny'),
  echo('y/b', 6, 1, 'allow'),
  echo('y/c', 4, 0, 'reject'),
  echo('y/c', 4, 1, 'reject'),
  { to: 'y/c', family: 4, type: 13, code: 0, expect: 'allow' },
  echo('y/c', 6, 0, 'deny'),
];

/** Runs a command in a namespace; a non-zero exit is a result, not an error. */
function nsRun(ns: string, argv: string[], timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns, ...argv], { timeout: timeoutMs }, (error, stdout, stderr) => {
      const status = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

/** One ICMP request from namespace `ns`: ping for a plain echo, the raw-socket prober for anything else. */
async function probeIcmp(ns: string, host: string, p: IcmpProbe, timeoutMs: number): Promise<LabResult> {
  const guard = timeoutMs + 5000; // process start-up on a busy machine, never a verdict
  if (p.type === ECHO[p.family] && p.code === 0) {
    const r = await nsRun(ns, ['ping', `-${p.family}`, '-n', '-c', '1', '-W', String(timeoutMs / 1000), host], guard);
    if (r.status === 0) return { outcome: 'allow', code: 'echo reply' };
    // An ICMP error answering the request: `From 10.123.0.1 icmp_seq=1 Packet filtered`.
    const error = /^From \S+ icmp_seq=\d+ (.+)$/m.exec(r.stdout);
    if (error) return { outcome: 'reject', code: error[1]! };
    return r.status === 1 ? { outcome: 'deny', code: 'timeout' } : { outcome: 'error', code: `ping exit ${r.status}: ${r.stderr.trim()}` };
  }
  const r = await nsRun(ns, ['python3', PROBER, String(p.family), host, String(p.type), String(p.code), String(timeoutMs)], guard);
  if (r.status !== 0) return { outcome: 'error', code: `icmp-probe.py exit ${r.status}: ${r.stderr.trim()}` };
  return JSON.parse(r.stdout) as LabResult;
}

describe('lab: ICMP type and code on real packets', () => {
  const lab = useLab(inventory, 'n1', { ping: 'iputils-ping', python3: 'python3-minimal' });

  it('admits exactly the ICMP types and codes the intents allow, as the evaluator says', async () => {
    const { ir, diagnostics } = compileTexts([{ path: 'icmp.intent', text: INTENTS }]);
    expect(diagnostics).toEqual([]);
    const { script, diagnostics: renderDiagnostics } = renderNodeRuleset(ir!, inventory, 'n1');
    expect(hasErrors(renderDiagnostics)).toBe(false);
    const applied = await lab().apply(script);
    expect(applied.stderr).toBe('');
    expect(applied.ok).toBe(true);

    const client = lab().hosts.get('x/a')!;
    const host = (p: IcmpProbe): string => endpointIp(inventory, p.to, p.family);
    const results = await confirmDrops(PROBES, (ps, ms) => Promise.all(ps.map((p) => probeIcmp(client, host(p), p, ms))), 1000, 3000);
    const probed = PROBES.map((p, i) => ({
      text: `x/a -> ${p.to} icmp${p.family === 6 ? 'v6' : ''} type ${p.type} code ${p.code}`,
      connection: { src: endpointIp(inventory, 'x/a', p.family), dst: host(p), protocol: p.family === 4 ? ('icmp' as const) : ('icmpv6' as const), icmpType: p.type, icmpCode: p.code },
      result: results[i]!,
      expect: p.expect,
    }));
    expect(disagreements(ir!, inventory, probed)).toEqual([]);
  });
});
