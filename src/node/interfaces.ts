/**
 * Finds the host-side interface of each pod IP from one snapshot of the node's routes,
 * links, neighbours and bridge FDB. With the reference `ptp` plugin the route to the pod
 * points at its veth (a host route); with `bridge` it points at the bridge, and the pod's
 * MAC (neighbour table) leads to the bridge port through the FDB. Any other route (default,
 * a subnet on an uplink) names no pod interface. `resolveHostInterfaces` is pure.
 */
import { familyOf, ipToBigInt, parseCidr } from '../ir/address.js';
import { iproute2Dialect, ToolSession, type SessionResult } from '../backends/tool-session.js';
import { runTool, type HostOptions } from './exec.js';

export interface NetSnapshot {
  routes: { dst: string; dev: string; family: 4 | 6 }[];
  /** Bridges (with kind `bridge`); other links are not listed. */
  links: { ifname: string; kind?: string }[];
  neighbours: { dst: string; dev: string; lladdr?: string }[];
  fdb: { mac: string; ifname: string; master?: string }[];
}

interface Prefix {
  family: 4 | 6;
  first: bigint;
  last: bigint;
  len: number;
  dev: string;
}

function routePrefix(dst: string, dev: string, family: 4 | 6): Prefix | undefined {
  const text = dst === 'default' ? (family === 4 ? '0.0.0.0/0' : '::/0') : dst.includes('/') ? dst : `${dst}/${family === 4 ? 32 : 128}`;
  const parsed = parseCidr(text);
  if (!parsed.ok) return undefined;
  return { family: parsed.family, first: parsed.interval.first, last: parsed.interval.last, len: parsed.prefix, dev };
}

/** Pod IP → host-side interface (absent when no route or no bridge port is known). */
export function resolveHostInterfaces(snap: NetSnapshot, ips: readonly string[]): Map<string, string> {
  const prefixes = snap.routes.flatMap((r) => routePrefix(r.dst, r.dev, r.family) ?? []).sort((a, b) => b.len - a.len);
  const kind = new Map(snap.links.map((l) => [l.ifname, l.kind]));
  const out = new Map<string, string>();
  for (const ip of ips) {
    const family = familyOf(ip);
    const value = ipToBigInt(ip);
    const route = prefixes.find((p) => p.family === family && p.first <= value && value <= p.last);
    if (!route) continue;
    if (kind.get(route.dev) !== 'bridge') {
      // Only a host route names a pod's own interface; a wider one (default, a subnet on
      // an uplink) would shape or guard the wrong device.
      if (route.len === (family === 4 ? 32 : 128)) out.set(ip, route.dev);
      continue;
    }
    const mac = snap.neighbours.find((n) => n.dst === ip && n.dev === route.dev)?.lladdr?.toLowerCase();
    const port = mac ? snap.fdb.find((f) => f.mac.toLowerCase() === mac && f.master === route.dev)?.ifname : undefined;
    if (port) out.set(ip, port);
  }
  return out;
}

async function json<T>(argv: string[], opts: HostOptions): Promise<T[]> {
  const r = await runTool(argv, opts);
  if (!r.ok || !r.stdout.trim()) return [];
  try {
    return JSON.parse(r.stdout) as T[];
  } catch {
    return [];
  }
}

/** The JSON arrays of a read transaction, one line per command; all empty when any command failed (which one is not known). */
function printedArrays(r: SessionResult, commands: number): unknown[][] {
  const lines = r.ok ? r.stdout.split('\n').filter((l) => l.trim()) : [];
  return Array.from({ length: commands }, (_, i) => {
    try {
      return lines.length === commands ? (JSON.parse(lines[i]!) as unknown[]) : [];
    } catch {
      return [];
    }
  });
}

/**
 * Reads snapshots through long-lived `ip -4|-6 -j -d -batch` sessions: routes and bridges
 * (neighbours too behind a bridge) for the pod IPs' families, without a process start per
 * pod added (several ms each on a busy node). Dumps name no device, so the name cache of a
 * long-lived `ip` never goes stale here.
 */
export class NetSnapshotReader {
  private readonly sessions = new Map<4 | 6, ToolSession>();

  constructor(private readonly opts: HostOptions = {}) {}

  private session(family: 4 | 6): ToolSession {
    let s = this.sessions.get(family);
    if (!s) this.sessions.set(family, (s = new ToolSession(iproute2Dialect('ip', this.opts.netns, [`-${family}`, '-j', '-d']), 10_000)));
    return s;
  }

  async read(families: ReadonlySet<4 | 6> = new Set([4, 6])): Promise<NetSnapshot> {
    const asked = ([4, 6] as const).filter((f) => families.has(f));
    // Only bridges need a closer look; listing every link would cost more with every pod.
    const dumps = await Promise.all(
      asked.map(async (family, i) => {
        const commands = i === 0 ? ['route show', 'link show type bridge'] : ['route show'];
        return { family, arrays: printedArrays(await this.session(family).run(commands, commands.length), commands.length) };
      }),
    );
    const links = (dumps[0]?.arrays[1] ?? []) as { ifname: string; linkinfo?: { info_kind?: string } }[];
    // Neighbours and the FDB matter only behind a bridge.
    const bridged = links.some((l) => l.linkinfo?.info_kind === 'bridge');
    const [neighbours, fdb] = bridged
      ? await Promise.all([
          Promise.all(asked.map(async (family) => printedArrays(await this.session(family).run(['neigh show'], 1), 1)[0] as { dst: string; dev: string; lladdr?: string }[])).then((n) => n.flat()),
          json<{ mac: string; ifname: string; master?: string }>(['bridge', '-j', 'fdb', 'show'], this.opts),
        ])
      : [[], []];
    return {
      routes: dumps.flatMap(({ family, arrays }) => (arrays[0] as { dst: string; dev: string }[]).map((r) => ({ ...r, family }))).filter((r) => r.dev),
      links: links.map((l) => ({ ifname: l.ifname, ...(l.linkinfo?.info_kind ? { kind: l.linkinfo.info_kind } : {}) })),
      neighbours,
      fdb,
    };
  }

  close(): void {
    for (const s of this.sessions.values()) s.close();
  }
}

/** One snapshot (the one-shot CLI): one `ip` per family asked, two more behind a bridge. */
export async function readNetSnapshot(opts: HostOptions = {}, families: ReadonlySet<4 | 6> = new Set([4, 6])): Promise<NetSnapshot> {
  const reader = new NetSnapshotReader(opts);
  try {
    return await reader.read(families);
  } finally {
    reader.close();
  }
}

/** Names of every link: after a failed apply, tells a vanished pod from a real fault. */
export async function listLinks(opts: HostOptions = {}): Promise<Set<string>> {
  return new Set((await json<{ ifname: string }>(['ip', '-j', 'link', 'show'], opts)).map((l) => l.ifname));
}
