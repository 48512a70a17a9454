/**
 * FQDN set lifetimes tied to DNS answers. dnsmasq 2.90 adds the addresses it relays to
 * the FQDN sets (`nftset=`) without a timeout of its own and never refreshes an element
 * already there. So the node's dnsmasq instances hand out TTLs of at most
 * `FQDN_TTL_CAP_S` (`max-ttl`, a pod re-resolves at least that often) and log every answer
 * (`log-queries`); the agent turns each logged answer into a refresh of the element's
 * timeout. An address then stays usable for `FQDN_TIMEOUT` after the last answer that
 * named it, i.e. as long as some pod may still hold that answer, and no longer.
 */
import { isIp } from '../../ir/address.js';
import { FAMILY, TABLE } from '../nftables/model.js';
import { dnsPatternShape, FQDN_TTL_CAP_S } from './dnsmasq.js';
/** An FQDN set element's lifetime from its last answer: the TTL cap, plus slack for the refresh itself. */
export const FQDN_TIMEOUT = `${FQDN_TTL_CAP_S + 30}s`;

/** An answer dnsmasq logged (`… reply NAME is ADDRESS`); CNAMEs, NXDOMAIN and the like are not addresses. */
export function parseDnsmasqReply(line: string): { name: string; ip: string } | undefined {
  const m = /\breply (\S+) is (\S+)\s*$/.exec(line);
  if (!m || !isIp(m[2]!)) return undefined;
  return { name: m[1]!.toLowerCase().replace(/\.$/, ''), ip: m[2]! };
}

/**
 * The FQDN sets an answer feeds, as dnsmasq's `nftset=` matches (whole labels of each
 * pattern's domain). `fqdnSets`: pattern → IPv4 set name (`…_4`; the IPv6 set ends `_6`).
 */
export function fqdnSetsOfAnswer(answer: { name: string; ip: string }, fqdnSets: ReadonlyMap<string, string>): string[] {
  const sets: string[] = [];
  for (const [pattern, set4] of fqdnSets) {
    const shape = dnsPatternShape(pattern);
    if (shape.kind === 'unsupported' || shape.kind === 'all') continue;
    if (answer.name !== shape.domain && !answer.name.endsWith(`.${shape.domain}`)) continue;
    sets.push(answer.ip.includes(':') ? set4.replace(/_4$/, '_6') : set4);
  }
  return sets;
}

/**
 * One transaction restarting the timeout of each (set, address): `add` (a no-op when the
 * element is there, a re-add when it just expired), `delete`, `add` again with the set's
 * default timeout. Atomic, so the address is never missing in between.
 */
export function renderFqdnRefresh(entries: readonly { set: string; ip: string }[]): string {
  const lines: string[] = [];
  for (const { set, ip } of entries) {
    const element = `${FAMILY} ${TABLE} ${set} { ${ip} }`;
    lines.push(`add element ${element}`, `delete element ${element}`, `add element ${element}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
