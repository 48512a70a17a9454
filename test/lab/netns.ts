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
import type { Inventory, InventoryPod } from '../../src/inventory/index.js';
import { applyNftScript, listNftTable, type NftRunResult } from '../../src/backends/nftables/apply.js';

const AGENT = fileURLToPath(new URL('./agent.mjs', import.meta.url));
export const LAB_PORTS = [80, 81];
export const NODE_IP = '10.123.0.1';
export const NODE_IP6 = 'fd00:123::1';
export const EXT_IP = '10.123.200.2';
export const EXT_IP6 = 'fd00:123::200:2';

/** Fails (never skips) when a tool is missing, naming the Debian package that brings it. */
export function requireTools(tools: Record<string, string> = { nft: 'nftables', ip: 'iproute2' }): void {
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
    throw new Error(`the lab needs ${missing.map(([b, p]) => `\`${b}\` (Debian package ${p})`).join(', ')}: run \`apt-get install -y ${pkgs}\` (or scripts/lab-deps.sh)`);
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

interface Agent {
  child: ChildProcessWithoutNullStreams;
  waiting: Map<number, (r: { outcome: LabOutcome; code: string }) => void>;
}

function ipBatch(commands: string[], netns?: string): void {
  if (commands.length === 0) return;
  execFileSync('ip', [...(netns ? ['-n', netns] : []), '-batch', '-'], { input: commands.join('\n') + '\n', stdio: ['pipe', 'ignore', 'pipe'] });
}

export class Lab {
  readonly prefix = `nit-${process.pid}-${randomBytes(3).toString('hex')}`;
  readonly nodeNs = `${this.prefix}-node`;
  readonly extNs = `${this.prefix}-ext`;
  /** Namespace key (`ns/pod`, `ext`, `node`) → netns name. */
  readonly hosts = new Map<string, string>();
  private readonly agents = new Map<string, Agent>();
  private nextId = 1;
  /** Distinct UDP source ports so that no probe ever reuses an earlier conntrack entry. */
  private nextUdpPort = 20000 + (process.pid % 50) * 400;
  private readonly cleanupOnExit = (): void => this.removeNamespaces();

  /** Every namespace this lab creates, known before any is created so cleanup never misses one. */
  private readonly namespaces: string[];

  private constructor(readonly pods: InventoryPod[]) {
    this.namespaces = [this.nodeNs, this.extNs, ...pods.map((_, i) => `${this.prefix}-p${i}`)];
  }

  /** Builds the node, the pods of `nodeName` and the external host. */
  static async create(inventory: Inventory, nodeName: string): Promise<Lab> {
    const lab = new Lab(inventory.pods.filter((p) => p.nodeName === nodeName && !p.hostNetwork));
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
    const { nodeNs, extNs } = this;
    const podNs = this.namespaces.slice(2);
    ipBatch(this.namespaces.map((n) => `netns add ${n}`));
    this.hosts.set('node', nodeNs).set('ext', extNs);
    execFileSync('ip', ['netns', 'exec', nodeNs, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0',
      // Reject answers must not be rate-limited away when hundreds of probes run at once.
      'net.ipv4.icmp_ratelimit=0', 'net.ipv4.icmp_msgs_per_sec=100000', 'net.ipv4.icmp_msgs_burst=10000', 'net.ipv6.icmp.ratelimit=0']);
    const node: string[] = ['link set lo up', `addr add ${NODE_IP6}/128 dev lo`];
    node.push(`link add hext type veth peer name eth0 netns ${extNs}`, 'link set hext up', 'addr add 10.123.200.1/24 dev hext', 'addr add fd00:123::200:1/112 dev hext nodad');
    this.pods.forEach((pod, i) => {
      const dev = `h${i}`;
      this.hosts.set(`${pod.namespace}/${pod.name}`, podNs[i]!);
      node.push(`link add ${dev} type veth peer name eth0 netns ${podNs[i]}`, `link set ${dev} up`, `addr add ${NODE_IP}/32 dev ${dev}`, `addr add fe80::1/64 dev ${dev} nodad`);
      for (const ip of pod.ips) node.push(ip.includes(':') ? `route add ${ip}/128 dev ${dev}` : `route add ${ip}/32 dev ${dev}`);
    });
    ipBatch(node, nodeNs);
    ipBatch(['link set lo up', 'link set eth0 up', `addr add ${EXT_IP}/24 dev eth0`, `addr add ${EXT_IP6}/112 dev eth0 nodad`, 'route add default via 10.123.200.1', 'route add ::/0 via fd00:123::200:1'], extNs);
    this.pods.forEach((pod, i) => {
      const cmds = ['link set lo up', 'link set eth0 up'];
      for (const ip of pod.ips) cmds.push(ip.includes(':') ? `addr add ${ip}/128 dev eth0 nodad` : `addr add ${ip}/32 dev eth0`);
      cmds.push(`route add ${NODE_IP} dev eth0 scope link`, `route add default via ${NODE_IP} dev eth0`, 'route add ::/0 via fe80::1 dev eth0');
      ipBatch(cmds, podNs[i]);
    });
  }

  private async startAgents(): Promise<void> {
    await Promise.all(
      [...this.hosts].map(
        ([key, ns]) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn('ip', ['netns', 'exec', ns, process.execPath, AGENT, ...(key === 'node' ? [] : LAB_PORTS.map(String))], { stdio: ['pipe', 'pipe', 'pipe'] });
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
  probe(probes: readonly LabProbe[], timeoutMs = 600): Promise<{ outcome: LabOutcome; code: string }[]> {
    return Promise.all(
      probes.map(
        (p) =>
          new Promise<{ outcome: LabOutcome; code: string }>((resolve, reject) => {
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

  /**
   * Probes with a short timeout, then re-probes the timeouts with a long one: a real drop
   * stays a drop, while a connection that was merely slow (shared CPU) shows up as allowed.
   */
  async probeConfirmed(probes: readonly LabProbe[], timeoutMs = 500, confirmMs = 2500): Promise<{ outcome: LabOutcome; code: string }[]> {
    const first = await this.probe(probes, timeoutMs);
    const slow = first.flatMap((r, i) => (r.outcome === 'deny' ? [i] : []));
    const again = await this.probe(slow.map((i) => probes[i]!), confirmMs);
    slow.forEach((i, k) => (first[i] = again[k]!));
    return first;
  }

  /** Every host reaches every other once with no ruleset: fills neighbour caches, proves the wiring. */
  async warmUp(): Promise<string[]> {
    const servers = [...this.hosts.keys()].filter((k) => k !== 'node');
    const targets = (key: string): string[] => (key === 'ext' ? [EXT_IP, EXT_IP6] : this.pods.find((p) => `${p.namespace}/${p.name}` === key)!.ips);
    const probes: LabProbe[] = [...this.hosts.keys()].flatMap((from) => servers.filter((to) => to !== from).flatMap((to) => targets(to).filter((ip) => from !== 'node' || !ip.includes(':')).map((host) => ({ from, host, protocol: 'tcp' as const, port: LAB_PORTS[0]! }))));
    const results = await this.probe(probes, 5000);
    return probes.flatMap((p, i) => (results[i]!.outcome === 'allow' ? [] : [`${p.from} -> ${p.host}: ${results[i]!.outcome} ${results[i]!.code}`]));
  }

  apply(script: string): Promise<NftRunResult> {
    return applyNftScript(script, { netns: this.nodeNs });
  }

  listTable(): Promise<NftRunResult> {
    return listNftTable({ netns: this.nodeNs });
  }

  private removeNamespaces(): void {
    for (const ns of this.namespaces) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // never created or already gone
      }
    }
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
