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

/** Reads the snapshot with three `ip` calls (five behind a bridge), whatever the number of pods. */
export async function readNetSnapshot(opts: HostOptions = {}): Promise<NetSnapshot> {
  const [r4, r6, links] = await Promise.all([
    json<{ dst: string; dev: string }>(['ip', '-j', '-4', 'route', 'show'], opts),
    json<{ dst: string; dev: string }>(['ip', '-j', '-6', 'route', 'show'], opts),
    // Only bridges need a closer look; listing every link would cost more with every pod.
    json<{ ifname: string; linkinfo?: { info_kind?: string } }>(['ip', '-j', '-d', 'link', 'show', 'type', 'bridge'], opts),
  ]);
  // Neighbours and the FDB matter only behind a bridge.
  const bridged = links.some((l) => l.linkinfo?.info_kind === 'bridge');
  const [neighbours, fdb] = bridged
    ? await Promise.all([json<{ dst: string; dev: string; lladdr?: string }>(['ip', '-j', 'neigh', 'show'], opts), json<{ mac: string; ifname: string; master?: string }>(['bridge', '-j', 'fdb', 'show'], opts)])
    : [[], []];
  return {
    routes: [...r4.map((r) => ({ ...r, family: 4 as const })), ...r6.map((r) => ({ ...r, family: 6 as const }))].filter((r) => r.dev),
    links: links.map((l) => ({ ifname: l.ifname, ...(l.linkinfo?.info_kind ? { kind: l.linkinfo.info_kind } : {}) })),
    neighbours,
    fdb,
  };
}

/** Names of every link: after a failed apply, tells a vanished pod from a real fault. */
export async function listLinks(opts: HostOptions = {}): Promise<Set<string>> {
  return new Set((await json<{ ifname: string }>(['ip', '-j', 'link', 'show'], opts)).map((l) => l.ifname));
}
