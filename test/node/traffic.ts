/**
 * Traffic helpers for the node lab: iperf3 runs measured at the receiver (per second,
 * first second and steady state), ping RTTs, the reference `bandwidth` CNI plugin invoked
 * the way a runtime chains it, and kernel feature checks. Everything runs inside lab
 * namespaces and targets lab addresses only.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export const BANDWIDTH_PLUGIN = '/usr/lib/cni/bandwidth';

export function nsExec(ns: string, argv: string[], input?: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, ...argv], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 });
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface IperfServer {
  port: number;
  stop(): void;
}

export async function startIperfServer(ns: string, port: number): Promise<IperfServer> {
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns, 'nice', '-n', '-10', 'iperf3', '-s', '-p', String(port)], { stdio: 'ignore' });
  // Wait until it listens.
  for (let i = 0; i < 100; i++) {
    try {
      if (nsExec(ns, ['ss', '-ltn', `sport = :${port}`]).includes(`:${port}`)) break;
    } catch {
      // ss not ready yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, stop: () => child.kill('SIGTERM') };
}

export interface Rate {
  /** Bits/s received in the first second. */
  first: number;
  /** Median of the following seconds. */
  steady: number;
  perSecond: number[];
}

interface IperfInterval {
  sum: { bits_per_second: number; seconds: number };
}

/**
 * One iperf3 run from `clientNs` to `server`, measured where the data arrives: the server
 * for uploads, the client for `reverse` (download). UDP is offered at twice the limit.
 */
export function iperf(clientNs: string, server: string, port: number, opts: { reverse?: boolean; udp?: number; seconds?: number } = {}): Rate {
  const seconds = opts.seconds ?? 4;
  // Raised priority: the measuring tools must not be what the shared CPUs starve.
  const args = ['nice', '-n', '-10', 'iperf3', '-c', server, '-p', String(port), '-t', String(seconds), '-i', '1', '-J', '--get-server-output', ...(opts.reverse ? ['-R'] : []), ...(opts.udp ? ['-u', '-b', String(opts.udp), '-l', '1400'] : [])];
  let out = '';
  for (let attempt = 0; ; attempt++) {
    try {
      out = nsExec(clientNs, args);
      break;
    } catch (e) {
      // The server is busy with the previous run's teardown now and then.
      if (attempt >= 3) throw e;
      execFileSync('sleep', ['0.5']);
    }
  }
  const j = JSON.parse(out) as { intervals: IperfInterval[]; server_output_text?: string };
  const perSecond = opts.reverse ? j.intervals.filter((i) => i.sum.seconds > 0.5).map((i) => i.sum.bits_per_second) : serverIntervals(j.server_output_text ?? '');
  return { first: perSecond[0] ?? 0, steady: median(perSecond.slice(1)), perSecond };
}

const UNIT: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9 };

/** Per-second receive rates from the server's text report (`[  5]   0.00-1.00   sec  1.19 MBytes  9.98 Mbits/sec …`). */
function serverIntervals(text: string): number[] {
  return [...text.matchAll(/\]\s+([\d.]+)-([\d.]+)\s+sec\s+[\d.]+ \w?Bytes\s+([\d.]+) (\w?)bits\/sec/g)]
    .filter((m) => Number(m[2]) - Number(m[1]) > 0.5 && Number(m[2]) - Number(m[1]) < 1.5)
    .map((m) => Number(m[3]) * UNIT[m[4] ?? '']!);
}

/**
 * Payload → bytes on the wire, which is what HTB (and TBF) count: a full TCP segment is
 * 1448 payload bytes in a 1514-byte frame (timestamps on), a 1400-byte UDP datagram a
 * 1442-byte frame.
 */
export function wireRate(proto: 'tcp' | 'udp', payloadBps: number): number {
  return proto === 'tcp' ? (payloadBps * 1514) / 1448 : (payloadBps * 1442) / 1400;
}

/** RTTs in ms of `count` pings from `ns` (0.2 s apart). */
export function pingRtts(ns: string, host: string, count: number, source?: string): number[] {
  let out = '';
  try {
    out = nsExec(ns, ['ping', '-n', '-c', String(count), '-i', '0.2', '-W', '2', ...(source ? ['-I', source] : []), host]);
  } catch (e) {
    out = String((e as { stdout?: string }).stdout ?? '');
  }
  return [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
}

/** Runs `fn` while an upload saturates the path, returns both results. */
export async function underLoad<T>(clientNs: string, server: string, port: number, fn: () => T, seconds = 5): Promise<T> {
  const load = spawn('ip', ['netns', 'exec', clientNs, 'iperf3', '-c', server, '-p', String(port), '-t', String(seconds)], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 1200));
  try {
    return fn();
  } finally {
    await new Promise<void>((resolve) => {
      if (load.exitCode !== null) return resolve();
      load.once('exit', () => resolve());
    });
  }
}

export interface RefBandwidth {
  ingressRate: number;
  ingressBurst: number;
  egressRate: number;
  egressBurst: number;
}

/**
 * The reference plugin chained after a main plugin, as a runtime calls it: runtimeConfig
 * carries the rates and bursts (bits), prevResult the host and container interfaces.
 */
export function referencePlugin(command: 'ADD' | 'DEL', nodeNs: string, podNs: string, hostIf: string, podIp: string, bw: RefBandwidth, containerId: string): void {
  const conf = {
    cniVersion: '1.0.0',
    name: 'lab',
    type: 'bandwidth',
    capabilities: { bandwidth: true },
    runtimeConfig: { bandwidth: bw },
    prevResult: { cniVersion: '1.0.0', interfaces: [{ name: hostIf }, { name: 'eth0', sandbox: `/var/run/netns/${podNs}` }], ips: [{ address: `${podIp}/32`, interface: 1 }] },
  };
  execFileSync('ip', ['netns', 'exec', nodeNs, BANDWIDTH_PLUGIN], {
    input: JSON.stringify(conf),
    env: { ...process.env, CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: `/var/run/netns/${podNs}`, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni' },
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: 30_000,
  });
}

/** Whether the kernel has a qdisc kind (tried on a veth in a throwaway namespace). */
export function kernelHasQdisc(kind: string): boolean {
  const ns = `nin-${process.pid}-${randomBytes(3).toString('hex')}-q`;
  try {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'add', 'qa', 'type', 'veth', 'peer', 'name', 'qb']);
    execFileSync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', 'qa', 'root', kind], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // not created
    }
  }
}
