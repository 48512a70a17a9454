/**
 * The `tc -batch` lines that shape one pod, given its host-side interface and its ifb.
 *
 *   to the pod   : host veth root  HTB 1a1e: ─ class 1a1e:1 (rate, own burst) ─ leaf
 *   from the pod : host veth ingress ─ u32 match-all ─ mirred redirect ─ ifb root HTB ─ leaf
 * Leaf: fq_codel (short queue, fair between flows) where the kernel has it, otherwise a
 * TBF at the same rate holding at most LEAF_LATENCY_MS; netem for the latency/jitter/loss of a rate
 * intent.
 * HTB limits every protocol (UDP too), not only TCP.
 */
import { shortHash } from '../nftables/model.js';
import type { Netem, PodShaping } from './plan.js';

/** Our handles: a root qdisc with this handle is netintent's, anything else is not. */
export const ROOT_HANDLE = '1a1e:';
const CLASS_ID = '1a1e:1';
/** Mirred filter handle, fixed so that `filter replace` is idempotent. */
const FILTER_HANDLE = '800::800';
/** Largest frame on a veth with the default MTU, with its Ethernet header. */
const FRAME_BYTES = 1514;
/** Rate used for an HTB class that only carries netem (no rate intent). */
const UNSHAPED_BPS = 10_000_000_000;

export type LeafKind = 'fq_codel' | 'tbf';

/** Longest a TBF leaf queues a packet: what a ping waits behind a saturating flow. */
export const LEAF_LATENCY_MS = 3;

/**
 * Bucket size: a few milliseconds of traffic, never less than two full frames. Computed
 * here, never taken from a runtime: a huge burst (kubelet passes MaxInt32 bits) lets the
 * first seconds through unshaped.
 */
export function burstBytes(bps: number): number {
  return Math.max(Math.ceil((bps / 8) * 0.005), 2 * FRAME_BYTES);
}

/** The ifb that carries a host interface's ingress: derived from the interface name (≤ 15 chars). */
export function ifbName(hostDev: string): string {
  return `nib${shortHash(hostDev).slice(0, 10)}`;
}

function netemArgs(n: Netem, bps: number | undefined): string {
  const parts = ['netem'];
  if (n.latencyUs !== undefined) parts.push(`delay ${n.latencyUs}us${n.jitterUs !== undefined ? ` ${n.jitterUs}us` : ''}`);
  if (n.lossPercent !== undefined) parts.push(`loss ${n.lossPercent}%`);
  // Enough packets for the delay at the rate (netem holds every delayed packet).
  const inFlight = Math.ceil((((bps ?? UNSHAPED_BPS) / 8) * ((n.latencyUs ?? 0) + (n.jitterUs ?? 0))) / 1e6 / FRAME_BYTES);
  parts.push(`limit ${Math.max(1000, inFlight * 2)}`);
  return parts.join(' ');
}

function leafArgs(leaf: LeafKind, bps: number): string {
  // Not a fifo: a byte-limited bfifo drops whole GSO packets (TCP then loses hundreds of
  // segments a second) and a packet-limited pfifo of GSO packets holds ~80 ms at 10 Mbit/s.
  // TBF splits GSO packets into frames and bounds its queue in time.
  return leaf === 'fq_codel' ? 'fq_codel' : `tbf rate ${bps}bit burst ${burstBytes(bps)}b latency ${LEAF_LATENCY_MS}ms`;
}

/** HTB root (only when ours is not there yet: HTB has no in-place change), class and leaf. */
function shapeDev(dev: string, bps: number | undefined, leaf: string, rootIsOurs: boolean): string[] {
  const rate = bps ?? UNSHAPED_BPS;
  const burst = burstBytes(rate);
  return [
    ...(rootIsOurs ? [] : [`qdisc replace dev ${dev} root handle ${ROOT_HANDLE} htb default 1`]),
    `class replace dev ${dev} parent ${ROOT_HANDLE} classid ${CLASS_ID} htb rate ${rate}bit ceil ${rate}bit burst ${burst}b cburst ${burst}b quantum ${FRAME_BYTES}`,
    // No handle: `replace` then swaps the leaf even when its kind changes.
    `qdisc replace dev ${dev} parent ${CLASS_ID} ${leaf}`,
  ];
}

export interface DevState {
  /** Our HTB is already the root of the host interface / of the ifb. */
  hostRootIsOurs: boolean;
  ifbRootIsOurs: boolean;
}

/** What a pod's shaping needs besides tc: the ifb device (created with `ip link`). */
export function needsIfb(s: PodShaping): boolean {
  return s.egressBps !== undefined || s.netem !== undefined;
}

export function podTcCommands(s: PodShaping, hostDev: string, leaf: LeafKind, state: DevState): string[] {
  const out: string[] = [];
  if (s.ingressBps !== undefined) out.push(...shapeDev(hostDev, s.ingressBps, leafArgs(leaf, s.ingressBps), state.hostRootIsOurs));
  else if (state.hostRootIsOurs) out.push(`qdisc del dev ${hostDev} root`);
  if (needsIfb(s)) {
    const ifb = ifbName(hostDev);
    const leafText = s.netem ? netemArgs(s.netem, s.egressBps) : leafArgs(leaf, s.egressBps!);
    out.push(
      ...shapeDev(ifb, s.egressBps, leafText, state.ifbRootIsOurs),
      `qdisc replace dev ${hostDev} handle ffff: ingress`,
      `filter replace dev ${hostDev} parent ffff: protocol all prio 1 handle ${FILTER_HANDLE} u32 match u32 0 0 action mirred egress redirect dev ${ifb}`,
    );
  }
  return out;
}

/** Removes our shaping from a host interface (the ifb itself is removed with `ip link del`). */
export function removeTcCommands(hostDev: string, state: { hostRootIsOurs: boolean; ingressIsOurs: boolean }): string[] {
  return [...(state.hostRootIsOurs ? [`qdisc del dev ${hostDev} root`] : []), ...(state.ingressIsOurs ? [`qdisc del dev ${hostDev} ingress`] : [])];
}
