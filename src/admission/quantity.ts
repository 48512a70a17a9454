/**
 * Kubernetes resource quantities (`10M`, `1Gi`, `500k`, `1e6`) as used by the
 * `kubernetes.io/{ingress,egress}-bandwidth` annotations, in bits per second.
 */

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

const SUFFIX_FACTOR: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1,
  k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** The kubelet's bounds for bandwidth annotations (pkg/util/bandwidth: 1k … 1P). */
export const MIN_BANDWIDTH_BPS = 1e3;
export const MAX_BANDWIDTH_BPS = 1e15;

/** The value of a quantity, or undefined when the text is not quantity syntax. */
export function parseQuantity(text: string): number | undefined {
  const m = QUANTITY.exec(text);
  if (!m) return undefined;
  const suffix = m[3] ?? '';
  const factor = suffix.startsWith('e') || suffix.startsWith('E') ? 10 ** Number(suffix.slice(1)) : SUFFIX_FACTOR[suffix]!;
  const value = Number(m[2]) * factor;
  return m[1] === '-' ? -value : value;
}

/** Why a bandwidth annotation value is unusable, or undefined when it is fine. */
export function bandwidthProblem(text: string): string | undefined {
  const bps = parseQuantity(text);
  if (bps === undefined) return 'not a Kubernetes quantity';
  if (bps < MIN_BANDWIDTH_BPS || bps > MAX_BANDWIDTH_BPS) return 'outside the range 1k to 1P';
  return undefined;
}

/** Shortest exact decimal form of a bit rate: 10000000 → `10M`, 1500 → `1500`. */
export function formatBitRate(bps: number): string {
  for (const [suffix, factor] of [['P', 1e15], ['T', 1e12], ['G', 1e9], ['M', 1e6], ['k', 1e3]] as const) {
    if (bps >= factor && bps % factor === 0) return `${bps / factor}${suffix}`;
  }
  return String(bps);
}
