/**
 * Finds the host-side interface of each pod IP from one snapshot of the node's routes,
 * links, neighbours and bridge FDB. With the reference `ptp` plugin the route to the pod
 * points at its veth (a host route); with `bridge` it points at the bridge, and the pod's
 * MAC (neighbour table) leads to the bridge port through the FDB. Any other route (default,
 * a subnet on an uplink) names no pod interface. `resolveHostInterfaces` is pure.
 */
import { familyOf, ipToBigInt, parseCidr } from '../ir/address.js';
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

/** The JSON arrays an `ip -j -batch` printed, one line per command (missing ones empty). */
function batchArrays(stdout: string, commands: number): unknown[][] {
  const arrays: unknown[][] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    try {
      arrays.push(JSON.parse(line) as unknown[]);
    } catch {
      arrays.push([]);
    }
  }
  while (arrays.length < commands) arrays.push([]);
  return arrays;
}

/**
 * Reads the snapshot for pod IPs of the given families: one `ip -batch` (routes and bridges),
 * a second `ip` for the other family's routes when both are asked for, and two more behind a
 * bridge, whatever the number of pods. On a busy node every process start costs several ms.
 */
export async function readNetSnapshot(opts: HostOptions = {}, families: ReadonlySet<4 | 6> = new Set([4, 6])): Promise<NetSnapshot> {
  const [first, second] = families.has(4) ? [4 as const, families.has(6) ? (6 as const) : undefined] : [6 as const, undefined];
  const [batch, otherRoutes] = await Promise.all([
    // Only bridges need a closer look; listing every link would cost more with every pod.
    runTool(['ip', `-${first}`, '-j', '-d', '-batch', '-'], { ...opts, input: 'route show\nlink show type bridge\n' }),
    second ? json<{ dst: string; dev: string }>(['ip', '-j', `-${second}`, 'route', 'show'], opts) : [],
  ]);
  const [routes, links] = batchArrays(batch.stdout, 2) as [{ dst: string; dev: string }[], { ifname: string; linkinfo?: { info_kind?: string } }[]];
  // Neighbours and the FDB matter only behind a bridge.
  const bridged = links.some((l) => l.linkinfo?.info_kind === 'bridge');
  const [neighbours, fdb] = bridged
    ? await Promise.all([json<{ dst: string; dev: string; lladdr?: string }>(['ip', '-j', 'neigh', 'show'], opts), json<{ mac: string; ifname: string; master?: string }>(['bridge', '-j', 'fdb', 'show'], opts)])
    : [[], []];
  return {
    routes: [...routes.map((r) => ({ ...r, family: first })), ...otherRoutes.map((r) => ({ ...r, family: second! }))].filter((r) => r.dev),
    links: links.map((l) => ({ ifname: l.ifname, ...(l.linkinfo?.info_kind ? { kind: l.linkinfo.info_kind } : {}) })),
    neighbours,
    fdb,
  };
}

/** Names of every link: after a failed apply, tells a vanished pod from a real fault. */
export async function listLinks(opts: HostOptions = {}): Promise<Set<string>> {
  return new Set((await json<{ ifname: string }>(['ip', '-j', 'link', 'show'], opts)).map((l) => l.ifname));
}
