/**
 * Edge: makes the node's policy routing and egress IPs match `EgressRoutes`, changing
 * only what differs, and says what it changed (the agent logs it; on a drift check it is
 * the list of repairs). Our rules are recognised by their mark range (0x4e49xxxx), our
 * egress IPs by the address label `<uplink>:ni`.
 */
import { RULE_PRIORITY, type EgressRoutes } from '../backends/egress/index.js';
import { runTool, type HostOptions } from './exec.js';

const OUR_MARKS = (m: number): boolean => m >>> 16 === 0x4e49;

async function json<T>(argv: string[], host: HostOptions): Promise<T[]> {
  const r = await runTool(argv, host);
  return r.ok && r.stdout.trim() ? (JSON.parse(r.stdout) as T[]) : [];
}

/** The interface holding one of the node's own addresses (the uplink the egress IP goes on). */
export async function findUplink(nodeAddresses: readonly string[], host: HostOptions = {}): Promise<string | undefined> {
  const links = await json<{ ifname: string; addr_info: { local: string }[] }>(['ip', '-j', 'addr', 'show'], host);
  for (const a of nodeAddresses) {
    const hit = links.find((l) => l.addr_info.some((i) => i.local === a));
    if (hit) return hit.ifname;
  }
  return undefined;
}

export async function applyEgressRoutes(want: EgressRoutes, uplink: string | undefined, host: HostOptions = {}): Promise<{ changes: string[]; errors: string[] }> {
  const changes: string[] = [];
  const errors: string[] = [];
  const ip = async (args: string[]): Promise<void> => {
    const r = await runTool(['ip', ...args], host);
    if (r.ok) changes.push(`ip ${args.join(' ')}`);
    else errors.push(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  };

  const rules = await json<{ fwmark?: string; table?: string; priority?: number }>(['ip', '-j', '-4', 'rule', 'show'], host);
  const have = new Set(rules.flatMap((r) => (r.fwmark && OUR_MARKS(Number(r.fwmark)) && r.table === String(Number(r.fwmark)) ? [Number(r.fwmark)] : [])));
  for (const m of want.rules) if (!have.has(m)) await ip(['rule', 'add', 'fwmark', `0x${m.toString(16)}`, 'lookup', String(m), 'priority', String(RULE_PRIORITY)]);
  for (const r of rules) {
    const m = r.fwmark ? Number(r.fwmark) : NaN;
    if (OUR_MARKS(m) && !want.rules.includes(m)) {
      await ip(['rule', 'del', 'fwmark', `0x${m.toString(16)}`, 'lookup', r.table ?? String(m)]);
      await ip(['route', 'flush', 'table', r.table ?? String(m)]);
    }
  }
  for (const r of want.routes) {
    const cur = await json<{ dst: string; gateway?: string; type?: string }>(['ip', '-j', 'route', 'show', 'table', String(r.table)], host);
    const def = cur.find((c) => c.dst === 'default');
    const ok = r.via ? def?.gateway === r.via : def?.type === 'unreachable';
    if (!ok) await ip(r.via ? ['route', 'replace', 'default', 'via', r.via, 'table', String(r.table)] : ['route', 'replace', 'unreachable', 'default', 'table', String(r.table)]);
  }

  const addrs = await json<{ ifname: string; addr_info: { local: string; prefixlen: number; label?: string }[] }>(['ip', '-j', '-4', 'addr', 'show'], host);
  const ours = addrs.flatMap((l) => l.addr_info.filter((a) => a.label?.endsWith(':ni')).map((a) => ({ dev: l.ifname, ip: a.local, prefixlen: a.prefixlen })));
  for (const a of ours) if (!want.addresses.includes(a.ip)) await ip(['addr', 'del', `${a.ip}/${a.prefixlen}`, 'dev', a.dev]);
  for (const a of want.addresses) {
    if (ours.some((o) => o.ip === a)) continue;
    if (!uplink) {
      errors.push(`egress IP ${a}: no uplink interface holds a node address`);
      continue;
    }
    // The label (≤ 15 bytes, starting with the device name) marks the address as ours.
    await ip(['addr', 'add', `${a}/32`, 'dev', uplink, ...(uplink.length <= 12 ? ['label', `${uplink}:ni`] : [])]);
    // Gratuitous ARP: neighbours that cached the previous gateway's MAC switch at once.
    const garp = await runTool(['arping', '-U', '-c', '1', '-w', '1', '-I', uplink, a], { ...host, timeoutMs: 5000 });
    if (garp.exitCode === null && /ENOENT/.test(garp.stderr)) errors.push('arping not found (Debian package iputils-arping): neighbours learn the moved egress IP only when their cache expires');
    else changes.push(`arping -U -I ${uplink} ${a}`);
  }
  return { changes, errors };
}
