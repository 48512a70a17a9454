/**
 * Real-packet lab: one network namespace per host. A node namespace routes (ip_forward)
 * between pod namespaces wired like the reference `ptp` CNI plugin (veth, pod /32 and
 * /128 addresses, host-side gateway 10.123.0.1 / fe80::1, per-pod host routes) and an
 * external host on 10.123.200.0/24. Every namespace runs `agent.mjs` (TCP+UDP servers on
 * the test ports, probe client). Traffic only ever goes to addresses inside the lab.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import readline from 'node:readline';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Inventory, InventoryNode, InventoryPod } from '../../src/inventory/index.js';
import { applyNftScript, listNftTable, type NftRunResult } from '../../src/backends/nftables/apply.js';

const AGENT = fileURLToPath(new URL('./agent.mjs', import.meta.url));
export const LAB_PORTS = [80, 81];
export const NODE_IP = '10.123.0.1';
export const NODE_IP6 = 'fd00:123::1';
export const EXT_IP = '10.123.200.2';
export const EXT_IP6 = 'fd00:123::200:2';

/** The tools every lab needs (binary → Debian package). */
export const LAB_TOOLS: Record<string, string> = { nft: 'nftables', ip: 'iproute2' };

/** Fails (never skips) when a tool is missing, naming the Debian package that brings it. */
export function requireTools(tools: Record<string, string> = LAB_TOOLS): void {
  const missing = Object.entries(tools).filter(([bin]) => {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(([, pkg]) => pkg))].join(' ');
    throw new Error(`the lab needs ${missing.map(([b, p]) => `\`${b}\` (Debian package ${p})`).join(', ')}: run \`apt-get install -y ${pkgs}\` (scripts/test.sh does it when run as root)`);
  }
  if (process.getuid?.() !== 0) throw new Error('the lab needs root (network namespaces, nft)');
}

export interface LabProbe {
  /** Namespace key: `ns/pod`, `ext` or `node`. */
  from: string;
  host: string;
  protocol: 'tcp' | 'udp';
  port: number;
}

export type LabOutcome = 'allow' | 'deny' | 'reject' | 'error';

export interface LabResult {
  outcome: LabOutcome;
  code: string;
}

/**
 * Probes with a short timeout, then re-probes the timeouts with a long one: a real drop
 * stays a drop, while an answer that was merely slow (shared CPU) shows up as allowed.
 */
export async function confirmDrops<P>(probes: readonly P[], probe: (probes: readonly P[], timeoutMs: number) => Promise<LabResult[]>, timeoutMs: number, confirmMs: number): Promise<LabResult[]> {
  const first = await probe(probes, timeoutMs);
  const slow = first.flatMap((r, i) => (r.outcome === 'deny' ? [i] : []));
  const again = await probe(slow.map((i) => probes[i]!), confirmMs);
  slow.forEach((i, k) => (first[i] = again[k]!));
  return first;
}

interface Agent {
  child: ChildProcessWithoutNullStreams;
  waiting: Map<number, (r: LabResult) => void>;
}

function ipBatch(commands: string[], netns?: string): void {
  if (commands.length === 0) return;
  execFileSync('ip', [...(netns ? ['-n', netns] : []), '-batch', '-'], { input: commands.join('\n') + '\n', stdio: ['pipe', 'ignore', 'pipe'] });
}

/** Deletes network namespaces, ignoring those never created or already gone. */
export function deleteNamespaces(names: Iterable<string>): void {
  for (const ns of names) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // never created or already gone
    }
  }
}

/**
 * The lab of one describe block: built and warmed up before its tests (failing, naming the
 * Debian packages, when tools are missing, `extraTools` included) and always destroyed after them.
 */
export function useLab(inventory: Inventory, node: string, extraTools: Record<string, string> = {}): () => Lab {
  let lab: Lab | undefined;
  beforeAll(async () => {
    requireTools({ ...LAB_TOOLS, ...extraTools });
    lab = await Lab.create(inventory, node);
    expect(await lab.warmUp()).toEqual([]);
  });
  afterAll(async () => {
    await lab?.destroy();
  });
  return () => lab!;
}

export class Lab {
  readonly prefix = `nit-${process.pid}-${randomBytes(3).toString('hex')}`;
  /** The first node's namespace: it also routes for the external host (lab key `node`). */
  readonly nodeNs = `${this.prefix}-node`;
  readonly extNs = `${this.prefix}-ext`;
  /** Namespace key (`ns/pod`, `ext`, `node`, `node:NAME` for further nodes) → netns name. */
  readonly hosts = new Map<string, string>();
  /** Node name → its namespace. */
  readonly nodeNamespaces = new Map<string, string>();
  private readonly agents = new Map<string, Agent>();
  private nextId = 1;
  /** Distinct UDP source ports so that no probe ever reuses an earlier conntrack entry. */
  private nextUdpPort = 20000 + (process.pid % 50) * 400;
  private readonly cleanupOnExit = (): void => this.removeNamespaces();

  /** Every namespace this lab creates, known before any is created so cleanup never misses one. */
  private readonly namespaces: string[];

  private constructor(
    readonly pods: InventoryPod[],
    private readonly nodes: InventoryNode[],
  ) {
    nodes.forEach((n, k) => this.nodeNamespaces.set(n.name, k === 0 ? this.nodeNs : `${this.prefix}-node${k}`));
    this.namespaces = [...this.nodeNamespaces.values(), this.extNs, ...pods.map((_, i) => `${this.prefix}-p${i}`)];
  }

  /**
   * Builds the nodes (the first one also routes for the external host), their pods and
   * the external host. Further nodes hang off the first by a point-to-point link each,
   * the way routed (non-overlay) clusters connect nodes.
   */
  static async create(inventory: Inventory, nodeNames: string | string[]): Promise<Lab> {
    const names = typeof nodeNames === 'string' ? [nodeNames] : nodeNames;
    const nodes = names.map((n) => {
      const node = inventory.nodes.find((x) => x.name === n);
      if (!node) throw new Error(`no node ${n} in the inventory`);
      return node;
    });
    const lab = new Lab(inventory.pods.filter((p) => p.nodeName !== undefined && names.includes(p.nodeName) && !p.hostNetwork), nodes);
    process.on('exit', lab.cleanupOnExit);
    try {
      lab.build();
      await lab.startAgents();
    } catch (e) {
      await lab.destroy();
      throw e;
    }
    return lab;
  }

  private build(): void {
    const { extNs } = this;
    const podNs = this.namespaces.slice(this.nodes.length + 1);
    ipBatch(this.namespaces.map((n) => `netns add ${n}`));
    this.hosts.set('ext', extNs);
    const batches = new Map<string, string[]>();
    const nodeIp = (n: InventoryNode): string => n.addresses.find((a) => !a.includes(':'))!;
    this.nodes.forEach((node, k) => {
      const ns = this.nodeNamespaces.get(node.name)!;
      this.hosts.set(k === 0 ? 'node' : `node:${node.name}`, ns);
      execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0',
        // Reject answers must not be rate-limited away when hundreds of probes run at once.
        'net.ipv4.icmp_ratelimit=0', 'net.ipv4.icmp_msgs_per_sec=100000', 'net.ipv4.icmp_msgs_burst=10000', 'net.ipv6.icmp.ratelimit=0']);
      batches.set(ns, ['link set lo up']);
    });
    const first = batches.get(this.nodeNs)!;
    first.push(`addr add ${NODE_IP6}/128 dev lo`);
    first.push(`link add hext type veth peer name eth0 netns ${extNs}`, 'link set hext up', 'addr add 10.123.200.1/24 dev hext', 'addr add fd00:123::200:1/112 dev hext nodad');
    this.pods.forEach((pod, i) => {
      const node = this.nodes.find((n) => n.name === pod.nodeName)!;
      const dev = `h${i}`;
      this.hosts.set(`${pod.namespace}/${pod.name}`, podNs[i]!);
      batches.get(this.nodeNamespaces.get(node.name)!)!.push(`link add ${dev} type veth peer name eth0 netns ${podNs[i]}`, `link set ${dev} up`, `addr add ${nodeIp(node)}/32 dev ${dev}`, `addr add fe80::1/64 dev ${dev} nodad`);
      for (const ip of pod.ips) batches.get(this.nodeNamespaces.get(node.name)!)!.push(ip.includes(':') ? `route add ${ip}/128 dev ${dev}` : `route add ${ip}/32 dev ${dev}`);
    });
    // After the pod links, which carry each node's own IP: links first node ↔ node k,: 10.123.250.(4k+1)/30 ↔ (4k+2), fd00:123::250:(4k+1)/126 ↔ (4k+2).
    this.nodes.slice(1).forEach((node, i) => {
      const k = i + 1;
      const ns = this.nodeNamespaces.get(node.name)!;
      const [a4, b4, a6, b6] = [`10.123.250.${4 * k + 1}`, `10.123.250.${4 * k + 2}`, `fd00:123::250:${4 * k + 1}`, `fd00:123::250:${4 * k + 2}`];
      first.push(`link add l${k} type veth peer name l0 netns ${ns}`, `link set l${k} up`, `addr add ${a4}/30 dev l${k}`, `addr add ${a6}/126 dev l${k} nodad`, `route add ${nodeIp(node)}/32 via ${b4}`);
      for (const pod of this.pods.filter((p) => p.nodeName === node.name)) {
        for (const ip of pod.ips) first.push(ip.includes(':') ? `route add ${ip}/128 via ${b6}` : `route add ${ip}/32 via ${b4} src ${nodeIp(this.nodes[0]!)}`);
      }
      batches.get(ns)!.push('link set l0 up', `addr add ${b4}/30 dev l0`, `addr add ${b6}/126 dev l0 nodad`, `route add default via ${a4} src ${nodeIp(node)}`, `route add ::/0 via ${a6}`);
    });
    for (const [ns, cmds] of batches) ipBatch(cmds, ns);
    ipBatch(['link set lo up', 'link set eth0 up', `addr add ${EXT_IP}/24 dev eth0`, `addr add ${EXT_IP6}/112 dev eth0 nodad`, 'route add default via 10.123.200.1', 'route add ::/0 via fd00:123::200:1'], extNs);
    this.pods.forEach((pod, i) => {
      const gateway = nodeIp(this.nodes.find((n) => n.name === pod.nodeName)!);
      const cmds = ['link set lo up', 'link set eth0 up'];
      for (const ip of pod.ips) cmds.push(ip.includes(':') ? `addr add ${ip}/128 dev eth0 nodad` : `addr add ${ip}/32 dev eth0`);
      cmds.push(`route add ${gateway} dev eth0 scope link`, `route add default via ${gateway} dev eth0`, 'route add ::/0 via fe80::1 dev eth0');
      ipBatch(cmds, podNs[i]);
    });
  }

  private async startAgents(): Promise<void> {
    await Promise.all(
      [...this.hosts].map(
        ([key, ns]) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn('ip', ['netns', 'exec', ns, process.execPath, AGENT, ...(key.startsWith('node') ? [] : LAB_PORTS.map(String))], { stdio: ['pipe', 'pipe', 'pipe'] });
            const agent: Agent = { child, waiting: new Map() };
            this.agents.set(key, agent);
            let stderr = '';
            child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
            child.on('exit', (code) => reject(new Error(`agent in ${ns} exited (${code}): ${stderr}`)));
            readline.createInterface({ input: child.stdout }).on('line', (line) => {
              const msg = JSON.parse(line) as { ready?: boolean; id?: number; outcome?: LabOutcome; code?: string };
              if (msg.ready) resolve();
              else if (msg.id !== undefined) {
                agent.waiting.get(msg.id)?.({ outcome: msg.outcome!, code: msg.code! });
                agent.waiting.delete(msg.id);
              }
            });
          }),
      ),
    );
  }

  /** Runs all probes at once; outcome per probe, in order. */
  probe(probes: readonly LabProbe[], timeoutMs = 600): Promise<LabResult[]> {
    return Promise.all(
      probes.map(
        (p) =>
          new Promise<LabResult>((resolve, reject) => {
            const agent = this.agents.get(p.from);
            if (!agent) return reject(new Error(`no lab host ${p.from}`));
            const id = this.nextId++;
            agent.waiting.set(id, resolve);
            const localPort = p.protocol === 'udp' ? (this.nextUdpPort = this.nextUdpPort >= 60000 ? 20000 : this.nextUdpPort + 1) : undefined;
            agent.child.stdin.write(JSON.stringify({ id, protocol: p.protocol, host: p.host, port: p.port, timeoutMs, localPort }) + '\n');
          }),
      ),
    );
  }

  /** Probes, re-probing timeouts with a long timeout (see confirmDrops). */
  probeConfirmed(probes: readonly LabProbe[], timeoutMs = 500, confirmMs = 2500): Promise<LabResult[]> {
    return confirmDrops(probes, (ps, ms) => this.probe(ps, ms), timeoutMs, confirmMs);
  }

  /** Every host reaches every other once with no ruleset: fills neighbour caches, proves the wiring. */
  async warmUp(): Promise<string[]> {
    const servers = [...this.hosts.keys()].filter((k) => !k.startsWith('node'));
    const targets = (key: string): string[] => (key === 'ext' ? [EXT_IP, EXT_IP6] : this.pods.find((p) => `${p.namespace}/${p.name}` === key)!.ips);
    const probes: LabProbe[] = [...this.hosts.keys()].flatMap((from) => servers.filter((to) => to !== from).flatMap((to) => targets(to).filter((ip) => !from.startsWith('node') || !ip.includes(':')).map((host) => ({ from, host, protocol: 'tcp' as const, port: LAB_PORTS[0]! }))));
    const results = await this.probe(probes, 5000);
    return probes.flatMap((p, i) => (results[i]!.outcome === 'allow' ? [] : [`${p.from} -> ${p.host}: ${results[i]!.outcome} ${results[i]!.code}`]));
  }

  /** The IPv4 address of a lab host key (`ns/pod`, `ext`, `node`, `node:NAME`). */
  addressOf(key: string): string {
    if (key === 'ext') return EXT_IP;
    const node = key === 'node' ? this.nodes[0] : key.startsWith('node:') ? this.nodes.find((n) => `node:${n.name}` === key) : undefined;
    if (node) return node.addresses.find((a) => !a.includes(':'))!;
    const pod = this.pods.find((p) => `${p.namespace}/${p.name}` === key);
    if (!pod) throw new Error(`no lab host ${key}`);
    return pod.ips.find((ip) => !ip.includes(':'))!;
  }

  /** Applies a script on a node (default: the first). */
  apply(script: string, nodeName?: string): Promise<NftRunResult> {
    return applyNftScript(script, { netns: nodeName ? this.nodeNamespaces.get(nodeName)! : this.nodeNs });
  }

  listTable(): Promise<NftRunResult> {
    return listNftTable({ netns: this.nodeNs });
  }

  private removeNamespaces(): void {
    deleteNamespaces(this.namespaces);
  }

  /** Stops the agents this lab started and removes every namespace it created. */
  async destroy(): Promise<void> {
    await Promise.all(
      [...this.agents.values()].map(
        (a) =>
          new Promise<void>((resolve) => {
            if (a.child.exitCode !== null || a.child.signalCode !== null) return resolve();
            a.child.removeAllListeners('exit');
            a.child.once('exit', () => resolve());
            a.child.stdin.end();
            a.child.kill('SIGTERM');
          }),
      ),
    );
    this.agents.clear();
    this.removeNamespaces();
    process.off('exit', this.cleanupOnExit);
  }
}
