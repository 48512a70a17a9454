/**
 * Which ICMP messages can open a connection, as the kernel's connection tracking sees them.
 * Rules decide new connections only (replies and related errors of an allowed connection
 * pass before any rule), so a rule on another type never matches: the checker warns and
 * the evaluator drops such a message as the dataplane does (`ct state invalid drop`).
 */

/** Requests that create a conntrack entry (nf_conntrack_proto_icmp's `valid_new`). */
const OPENS_V4 = new Set([8 /* echo */, 13 /* timestamp */, 15 /* info request */, 17 /* address mask */]);
/** Echo request and node information query create one; MLD and neighbour discovery are left untracked, so rules see them. */
const OPENS_V6 = new Set([128, 139]);
const UNTRACKED_V6 = new Set([130, 131, 132, 133, 134, 135, 136, 143]);

/** Whether a message of this type reaches the rules as a new connection. */
export function icmpTypeReachesRules(protocol: 'icmp' | 'icmpv6', type: number): boolean {
  return protocol === 'icmp' ? OPENS_V4.has(type) : OPENS_V6.has(type) || UNTRACKED_V6.has(type);
}
