/**
 * Node lab, egress gateways: three agents (`netintent node run`, one per node namespace)
 * on a shared LAN with an external host. Selected pods leave with the egress IP, others
 * with their own; when the active gateway dies the next takes over (measured), and an
 * agent restart keeps enforcement.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import readline from 'node:readline';
import { requireTools } from '../lab/netns.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
const PREFIX = `nin-${process.pid}-${randomBytes(3).toString('hex')}`;
const NS = { lan: `${PREFIX}-lan`, a: `${PREFIX}-a`, gw1: `${PREFIX}-gw1`, gw2: `${PREFIX}-gw2`, ext: `${PREFIX}-ext`, billing: `${PREFIX}-pb`, other: `${PREFIX}-po` };
const LAN = { a: '192.0.2.1', gw1: '192.0.2.2', gw2: '192.0.2.3', ext: '192.0.2.100' };
const EGRESS_IP = '192.0.2.50';
const POD = { billing: '10.125.1.10', other: '10.125.1.11' };
const ECHO_PORT = 7000;

const INTENTS = `group billing {
  pods app = billing in namespace fin
}

egress-gateway audit {
  pods billing
  to 0.0.0.0/0 except 10.0.0.0/8
  nodes gw-1, gw-2
  egress-ip ${EGRESS_IP}
}
`;

function inventoryYaml(): string {
  const nodeDoc = (name: string, ip: string): string => `- apiVersion: v1\n  kind: Node\n  metadata:\n    name: ${name}\n  status:\n    addresses:\n    - type: InternalIP\n      address: ${ip}\n`;
  const podDoc = (name: string, ip: string): string =>
    `- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: ${name}\n    namespace: fin\n    labels:\n      app: ${name}\n  spec:\n    nodeName: node-a\n    containers:\n    - name: c\n  status:\n    podIPs:\n    - ip: ${ip}\n`;
  return `apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: fin\n${nodeDoc('node-a', LAN.a)}${nodeDoc('gw-1', LAN.gw1)}${nodeDoc('gw-2', LAN.gw2)}${podDoc('billing', POD.billing)}${podDoc('other', POD.other)}`;
}

function ipBatch(lines: string[], ns?: string): void {
  execFileSync('ip', [...(ns ? ['-n', ns] : []), '-batch', '-'], { input: lines.join('\n') + '\n' });
}
const sysctl = (ns: string): void => void execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']);

function build(): void {
  ipBatch(Object.values(NS).map((n) => `netns add ${n}`));
  const lanHosts = { a: NS.a, gw1: NS.gw1, gw2: NS.gw2, ext: NS.ext } as const;
  const lanCmds: string[] = [];
  for (const [key, ns] of Object.entries(lanHosts)) lanCmds.push(`link add l-${key} type veth peer name uplink netns ${ns}`, `link set l-${key} master br0`, `link set l-${key} up`);
  ipBatch(['link set lo up', 'link add br0 type bridge', 'link set br0 up', ...lanCmds], NS.lan);
  for (const [key, ns] of Object.entries(lanHosts)) {
    sysctl(ns);
    const back = key === 'a' ? [] : [`route add 10.125.1.0/24 via ${LAN.a}`];
    ipBatch(['link set lo up', 'link set uplink up', `addr add ${LAN[key as keyof typeof LAN]}/24 dev uplink`, ...back], ns);
  }
  // Pods on node-a, wired like the reference ptp plugin.
  for (const [key, ip] of Object.entries(POD)) {
    const podNs = key === 'billing' ? NS.billing : NS.other;
    ipBatch([`link add v${key} type veth peer name eth0 netns ${podNs}`, `link set v${key} up`, `addr add 10.125.0.1/32 dev v${key}`, `route add ${ip}/32 dev v${key}`], NS.a);
    ipBatch(['link set lo up', 'link set eth0 up', `addr add ${ip}/32 dev eth0`, 'route add 10.125.0.1 dev eth0 scope link', 'route add default via 10.125.0.1 dev eth0'], podNs);
  }
}

function removeAll(): void {
  for (const ns of Object.values(NS)) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // not created
    }
  }
}

interface Agent {
  child: ChildProcess;
  log: string[];
  ready: Promise<void>;
}

function startAgent(ns: string, node: string, dir: string): Agent {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, CLI, 'node', 'run', join(dir, 'egress.intent'), '--inventory', join(dir, 'inventory.yaml'), '--node', node, '--interval', '2'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const log: string[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    readline.createInterface({ input: child.stderr! }).on('line', (l) => {
      log.push(l);
      if (/ startup: /.test(l)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`agent ${node} exited (${code}): ${log.join('\n')}`)));
  });
  ready.catch(() => undefined);
  return { child, log, ready };
}

function stopAgent(a: Agent | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (!a || a.child.exitCode !== null || a.child.signalCode !== null) return resolve();
    a.child.removeAllListeners('exit');
    a.child.once('exit', () => resolve());
    a.child.kill(signal);
  });
}

const ECHO = `require('net').createServer((s)=>{s.on('error',()=>{});s.end(s.remoteAddress.replace(/^::ffff:/,''))}).listen(${ECHO_PORT},'0.0.0.0')`;
/** Source address the external host sees for one connection from a pod ('' when none got through). */
function seenFrom(podNs: string): string {
  const script = `const s=require('net').connect({host:'${LAN.ext}',port:${ECHO_PORT}});let d='';s.setTimeout(700,()=>process.exit(0));s.on('data',(x)=>d+=x);s.on('end',()=>{process.stdout.write(d);process.exit(0)});s.on('error',()=>process.exit(0));`;
  try {
    return execFileSync('ip', ['netns', 'exec', podNs, process.execPath, '-e', script], { encoding: 'utf8', timeout: 10_000 });
  } catch {
    return '';
  }
}

async function waitFor(fn: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return fn();
}

describe('node lab: egress gateways', () => {
  let dir = '';
  let echo: ChildProcess | undefined;
  const agents: Record<string, Agent | undefined> = {};

  beforeAll(async () => {
    requireTools({ nft: 'nftables', ip: 'iproute2', arping: 'iputils-arping' });
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (scripts/test.sh does)`);
    process.on('exit', removeAll);
    build();
    dir = mkdtempSync(join(tmpdir(), 'nin-egress-'));
    writeFileSync(join(dir, 'egress.intent'), INTENTS);
    writeFileSync(join(dir, 'inventory.yaml'), inventoryYaml());
    echo = spawn('ip', ['netns', 'exec', NS.ext, process.execPath, '-e', ECHO], { stdio: 'ignore' });
    agents.a = startAgent(NS.a, 'node-a', dir);
    agents.gw1 = startAgent(NS.gw1, 'gw-1', dir);
    agents.gw2 = startAgent(NS.gw2, 'gw-2', dir);
    await Promise.all(Object.values(agents).map((a) => a!.ready));
  });
  afterAll(async () => {
    await Promise.all(Object.values(agents).map((a) => stopAgent(a)));
    echo?.kill();
    removeAll();
    process.off('exit', removeAll);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('selected pods leave with the egress IP, the others with their own IP', async () => {
    expect(await waitFor(() => seenFrom(NS.billing) === EGRESS_IP, 15_000), agents.a!.log.join('\n')).toBe(true);
    expect(seenFrom(NS.other)).toBe(POD.other);
    expect(execFileSync('ip', ['-n', NS.gw1, '-4', 'addr', 'show', 'dev', 'uplink'], { encoding: 'utf8' })).toContain(EGRESS_IP);
    // The standby converges to not holding the address (on a loaded machine its first
    // probes of the active gateway may miss, and it then hands the address back).
    const standbyHolds = (): boolean => execFileSync('ip', ['-n', NS.gw2, '-4', 'addr', 'show', 'dev', 'uplink'], { encoding: 'utf8' }).includes(EGRESS_IP);
    expect(await waitFor(() => !standbyHolds(), 15_000), agents.gw2!.log.join('\n')).toBe(true);
  });

  it('when the active gateway dies, the next one takes over within 10 s', async () => {
    // The node dies: its link goes down and its agent with it.
    const t0 = Date.now();
    execFileSync('ip', ['-n', NS.gw1, 'link', 'set', 'uplink', 'down']);
    await stopAgent(agents.gw1, 'SIGKILL');
    const ok = await waitFor(() => seenFrom(NS.billing) === EGRESS_IP, 20_000);
    const failoverMs = Date.now() - t0;
    console.log(`egress gateway failover: ${failoverMs} ms (probe every 1 s, down after 2 misses)`);
    expect(ok, agents.a!.log.join('\n')).toBe(true);
    expect(failoverMs).toBeLessThan(10_000);
    expect(execFileSync('ip', ['-n', NS.gw2, '-4', 'addr', 'show', 'dev', 'uplink'], { encoding: 'utf8' })).toContain(EGRESS_IP);
    expect(seenFrom(NS.other)).toBe(POD.other);
  });

  it('routes removed behind the agent\'s back come back at the next drift check', async () => {
    const rules = execFileSync('ip', ['-n', NS.a, '-4', 'rule', 'show'], { encoding: 'utf8' });
    const mark = /fwmark (0x4e49[0-9a-f]{4})/.exec(rules)?.[1];
    expect(mark, rules).toBeDefined();
    execFileSync('ip', ['-n', NS.a, 'rule', 'del', 'fwmark', mark!, 'lookup', String(Number(mark))]);
    const logged = (): boolean => agents.a!.log.some((l) => /drift repaired: .*ip rule add fwmark/.test(l));
    // The log line travels through a pipe: wait for it as well as for the rule.
    expect(await waitFor(() => logged() && execFileSync('ip', ['-n', NS.a, '-4', 'rule', 'show'], { encoding: 'utf8' }).includes(mark!), 10_000), agents.a!.log.join('\n')).toBe(true);
    expect(seenFrom(NS.billing)).toBe(EGRESS_IP);
  });

  it('an agent restart keeps enforcement throughout and converges', async () => {
    await stopAgent(agents.a);
    expect(seenFrom(NS.billing)).toBe(EGRESS_IP); // rules and routes outlive the agent
    agents.a = startAgent(NS.a, 'node-a', dir);
    await agents.a.ready;
    expect(seenFrom(NS.billing)).toBe(EGRESS_IP);
    expect(seenFrom(NS.other)).toBe(POD.other);
  });
});
