/**
 * L7 lab: a node namespace routing between pod namespaces (wired like test/lab, `ptp`
 * style: veth, pod /32, gateway 10.123.0.1 = the node address) and an external host
 * (10.123.200.0/24) holding the addresses the FQDN tests resolve to. Each pod runs
 * `pod-agent.mjs` (HTTP/TCP servers, client commands). Namespaces are named
 * `nil-<pid>-<rand>-…` and all removed by `destroy()`, and on process exit.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import readline from 'node:readline';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteNamespaces } from '../lab/netns.js';
import type { Inventory } from '../../src/inventory/index.js';

const AGENT = fileURLToPath(new URL('./pod-agent.mjs', import.meta.url));
export const NODE_IP = '10.123.0.1';

export interface LabPodSpec {
  namespace: string;
  name: string;
  ip: string;
  labels: Record<string, string>;
  /** Agent arguments, e.g. `http=80,8080`. */
  serve?: string[];
  /** Extra processes to run in the pod's namespace (argv), e.g. an authoritative dnsmasq. */
  run?: string[];
}

// The cluster the L7 tests share: the Star Wars demo's HTTP rules, a DNS rule and FQDN
// egress, an authoritative DNS pod, and external hosts the FQDN names resolve to.
export const DEATHSTAR = '10.123.1.1';
export const DNS_POD = '10.123.2.1';
export const REMOTE = '10.123.200.2'; // my-remote-service.com
export const EVIL = '10.123.200.3'; // evil.com
export const FOOBAR = '10.123.200.4'; // api.foobar.com

export const LAB_INTENTS = `
group deathstar { pods org = empire, class = deathstar in namespace starwars }
group empire { pods org = empire in namespace starwars }
group tie { pods class = tiefighter in namespace starwars }
group monitor { pods app = monitor in namespace starwars }
group kube-dns { pods k8s-app = kube-dns in namespace kube-system }
group test-app { pods app = test-app in namespace default }
group remote-service { fqdn my-remote-service.com }
group foobar { fqdn "*foobar.com" }

policy deathstar-landing {
  allow empire -> deathstar on tcp/80 http { POST "/v1/request-landing" }
  allow tie -> deathstar on tcp/8080 http { GET "/status" }
  allow monitor -> deathstar on tcp/80
  deny any -> deathstar
}

policy test-app-egress {
  allow test-app -> kube-dns on udp/53, tcp/53 dns { name "my-remote-service.com" pattern "*foobar.com" }
  allow test-app -> remote-service or foobar on tcp/443
  deny test-app -> any
}
`;

export const LAB_PODS: LabPodSpec[] = [
  { namespace: 'starwars', name: 'deathstar', ip: DEATHSTAR, labels: { org: 'empire', class: 'deathstar' }, serve: ['http=80,8080'] },
  { namespace: 'starwars', name: 'tiefighter', ip: '10.123.1.2', labels: { org: 'empire', class: 'tiefighter' } },
  { namespace: 'starwars', name: 'xwing', ip: '10.123.1.3', labels: { org: 'alliance', class: 'xwing' } },
  { namespace: 'starwars', name: 'monitor', ip: '10.123.1.4', labels: { app: 'monitor' } },
  {
    namespace: 'kube-system',
    name: 'dns',
    ip: DNS_POD,
    labels: { 'k8s-app': 'kube-dns' },
    // The authoritative test DNS server: local records only, no upstream.
    run: ['dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts', '--pid-file', '--user=root', '--port=53', `--listen-address=${DNS_POD}`, '--bind-interfaces', `--address=/my-remote-service.com/${REMOTE}`, `--address=/evil.com/${EVIL}`, `--host-record=api.foobar.com,${FOOBAR}`, `--host-record=sub.my-remote-service.com,${EVIL}`],
  },
  { namespace: 'default', name: 'test-app', ip: '10.123.3.1', labels: { app: 'test-app' } },
];

type Reply = Record<string, unknown>;

function ipBatch(commands: string[], netns?: string): void {
  execFileSync('ip', [...(netns ? ['-n', netns] : []), '-batch', '-'], { input: commands.join('\n') + '\n', stdio: ['pipe', 'ignore', 'pipe'] });
}

export class L7Lab {
  readonly prefix = `nil-${process.pid}-${randomBytes(3).toString('hex')}`;
  readonly nodeNs = `${this.prefix}-node`;
  readonly extNs = `${this.prefix}-ext`;
  readonly dir = mkdtempSync(join(tmpdir(), 'nil-l7-'));
  private readonly namespaces: string[];
  private readonly agents = new Map<string, { child: ChildProcessWithoutNullStreams; waiting: Map<number, (r: Reply) => void> }>();
  private readonly extra: ChildProcessWithoutNullStreams[] = [];
  private nextId = 1;
  private readonly cleanupOnExit = (): void => this.removeNamespaces();

  private constructor(
    readonly pods: LabPodSpec[],
    readonly extIps: string[],
  ) {
    this.namespaces = [this.nodeNs, this.extNs, ...pods.map((_, i) => `${this.prefix}-p${i}`)];
  }

  podNs(key: string): string {
    const i = this.pods.findIndex((p) => `${p.namespace}/${p.name}` === key);
    if (i < 0) throw new Error(`no lab pod ${key}`);
    return `${this.prefix}-p${i}`;
  }

  static async create(pods: LabPodSpec[], extIps: string[], extServe: string[]): Promise<L7Lab> {
    const lab = new L7Lab(pods, extIps);
    process.on('exit', lab.cleanupOnExit);
    try {
      lab.build();
      await Promise.all([...pods.map((p, i) => lab.startAgent(`${p.namespace}/${p.name}`, `${lab.prefix}-p${i}`, p.serve ?? [])), lab.startAgent('ext', lab.extNs, extServe)]);
      pods.forEach((p, i) => p.run && lab.runIn(`${lab.prefix}-p${i}`, p.run));
    } catch (e) {
      await lab.destroy();
      throw e;
    }
    return lab;
  }

  /** The inventory of this lab: one node `lab-node` (address NODE_IP) holding every pod. */
  inventory(): Inventory {
    const nsNames = [...new Set(this.pods.map((p) => p.namespace))].sort();
    return {
      namespaces: nsNames.map((name) => ({ name, labels: { 'kubernetes.io/metadata.name': name } })),
      pods: this.pods.map((p, i) => ({ namespace: p.namespace, name: p.name, uid: `uid-${i}`, labels: p.labels, annotations: {}, nodeName: 'lab-node', ips: [p.ip], ports: [], networks: [], hostNetwork: false })),
      nodes: [{ name: 'lab-node', labels: {}, addresses: [NODE_IP], podCidrs: [] }],
      services: [],
    };
  }

  private build(): void {
    ipBatch(this.namespaces.map((n) => `netns add ${n}`));
    execFileSync('ip', ['netns', 'exec', this.nodeNs, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']);
    const node = ['link set lo up', `link add hext type veth peer name eth0 netns ${this.extNs}`, 'link set hext up', 'addr add 10.123.200.1/24 dev hext'];
    this.pods.forEach((p, i) => {
      node.push(`link add h${i} type veth peer name eth0 netns ${this.prefix}-p${i}`, `link set h${i} up`, `addr add ${NODE_IP}/32 dev h${i}`, `route add ${p.ip}/32 dev h${i}`);
    });
    ipBatch(node, this.nodeNs);
    ipBatch(['link set lo up', 'link set eth0 up', ...this.extIps.map((ip) => `addr add ${ip}/24 dev eth0`), 'route add default via 10.123.200.1'], this.extNs);
    this.pods.forEach((p, i) => {
      ipBatch(['link set lo up', 'link set eth0 up', `addr add ${p.ip}/32 dev eth0`, `route add ${NODE_IP} dev eth0 scope link`, `route add default via ${NODE_IP} dev eth0`], `${this.prefix}-p${i}`);
    });
  }

  private startAgent(key: string, ns: string, serve: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', ns, process.execPath, AGENT, ...serve], { stdio: ['pipe', 'pipe', 'pipe'] });
      const agent = { child, waiting: new Map<number, (r: Reply) => void>() };
      this.agents.set(key, agent);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => reject(new Error(`agent in ${ns} exited (${code}): ${stderr}`)));
      readline.createInterface({ input: child.stdout }).on('line', (line) => {
        const msg = JSON.parse(line) as Reply & { ready?: boolean; id?: number };
        if (msg.ready) resolve();
        else if (msg.id !== undefined) {
          const { id: _id, ...reply } = msg;
          agent.waiting.get(msg.id)?.(reply);
          agent.waiting.delete(msg.id);
        }
      });
    });
  }

  /** Runs a process in a namespace for the lab's lifetime. */
  runIn(ns: string, argv: string[]): ChildProcessWithoutNullStreams {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    this.extra.push(child);
    return child;
  }

  /** Sends one command to the agent of pod `from` (`ns/name` or `ext`). */
  send<T extends Reply>(from: string, command: Record<string, unknown>): Promise<T> {
    const agent = this.agents.get(from);
    if (!agent) throw new Error(`no lab agent ${from}`);
    const id = this.nextId++;
    return new Promise((resolve) => {
      agent.waiting.set(id, resolve as (r: Reply) => void);
      agent.child.stdin.write(JSON.stringify({ ...command, id }) + '\n');
    });
  }

  http(from: string, host: string, port: number, method: string, path: string, timeoutMs = 2000): Promise<{ status?: number; body?: string; error?: string }> {
    return this.send(from, { op: 'http', host, port, method, path, timeoutMs });
  }

  tcp(from: string, host: string, port: number, timeoutMs = 1000): Promise<{ outcome: string }> {
    return this.send(from, { op: 'tcp', host, port, timeoutMs });
  }

  dns(from: string, server: string, name: string, proto: 'udp' | 'tcp' = 'udp'): Promise<{ rcode?: number; addresses?: string[]; error?: string }> {
    return this.send(from, { op: 'dns', server, name, proto, timeoutMs: 3000 });
  }

  nft(args: string[]): string {
    return execFileSync('ip', ['netns', 'exec', this.nodeNs, 'nft', ...args], { encoding: 'utf8' });
  }

  private removeNamespaces(): void {
    deleteNamespaces(this.namespaces);
  }

  /** Stops what the lab started and removes every namespace it created. */
  async destroy(): Promise<void> {
    const stops = [...this.agents.values()].map((a) => a.child).concat(this.extra);
    await Promise.all(
      stops.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.removeAllListeners('exit');
            const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
            child.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            child.stdin.end();
            child.kill('SIGTERM');
          }),
      ),
    );
    this.agents.clear();
    this.removeNamespaces();
    rmSync(this.dir, { recursive: true, force: true });
    process.off('exit', this.cleanupOnExit);
  }
}
