/**
 * Kubernetes quantity syntax (resource.Quantity) as used by the bandwidth annotations
 * `kubernetes.io/ingress-bandwidth` / `egress-bandwidth`: bits per second.
 */
const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** `10M` → 10000000, `1Gi` → 1073741824, `1e6` → 1000000; undefined when not a quantity. */
export function parseQuantity(text: string): number | undefined {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(text.trim());
  if (!m) return undefined;
  const value = m[2] !== undefined ? Number(m[1]! + m[2]) : Number(m[1]) * SUFFIX[m[3] ?? '']!;
  return Number.isFinite(value) ? Math.round(value) : undefined;
}
