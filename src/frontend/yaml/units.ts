/**
 * Rates, durations and percentages written as in the DSL: `10M`, `500kbit`, `50ms`, `1%`.
 * Each parser returns the value or a reason in words (for NI4004 / NI4005).
 */

const RATE_UNITS: Record<string, number> = {
  bps: 1, bit: 1, k: 1e3, K: 1e3, kbit: 1e3, Kbit: 1e3, M: 1e6, Mbit: 1e6, mbit: 1e6, G: 1e9, Gbit: 1e9, gbit: 1e9,
};
const DURATION_UNITS: Record<string, number> = { us: 1, ms: 1e3, s: 1e6 };

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const NUMBER_WITH_UNIT = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z%]*)\s*$/;

/** Bits per second; a bare integer (YAML number) is taken as bits per second. */
export function parseRate(input: string | number): Parsed<number> {
  if (typeof input === 'number') {
    return Number.isInteger(input) && input > 0 ? { ok: true, value: input } : { ok: false, reason: 'a rate is a positive whole number of bits per second' };
  }
  const m = NUMBER_WITH_UNIT.exec(input);
  if (!m) return { ok: false, reason: 'expected a number and a unit (k, M, G, kbit, Mbit, Gbit, bps)' };
  const unit = m[2]!;
  const factor = RATE_UNITS[unit];
  if (factor === undefined) return { ok: false, reason: unit === '' ? 'missing unit (k, M, G, kbit, Mbit, Gbit, bps)' : `unknown unit "${unit}" (expected k, M, G, kbit, Mbit, Gbit, bps)` };
  const bps = Number(m[1]) * factor;
  if (!Number.isInteger(bps) || bps <= 0) return { ok: false, reason: 'a rate is a positive whole number of bits per second' };
  return { ok: true, value: bps };
}

/** Microseconds. */
export function parseDuration(input: string): Parsed<number> {
  const m = NUMBER_WITH_UNIT.exec(input);
  if (!m) return { ok: false, reason: 'expected a number and a unit (us, ms, s)' };
  const unit = m[2]!;
  const factor = DURATION_UNITS[unit];
  if (factor === undefined) return { ok: false, reason: unit === '' ? 'missing unit (us, ms, s)' : `unknown unit "${unit}" (expected us, ms, s)` };
  const us = Number(m[1]) * factor;
  if (!Number.isInteger(us)) return { ok: false, reason: 'not a whole number of microseconds' };
  return { ok: true, value: us };
}

/** A percentage 0–100, written `1%`, `0.5%` or as a YAML number. */
export function parsePercent(input: string | number): Parsed<number> {
  let value: number;
  if (typeof input === 'number') value = input;
  else {
    const m = NUMBER_WITH_UNIT.exec(input);
    if (!m || (m[2] !== '%' && m[2] !== '')) return { ok: false, reason: 'expected a percentage such as 1%' };
    value = Number(m[1]);
  }
  if (!Number.isFinite(value) || value < 0 || value > 100) return { ok: false, reason: 'a percentage is between 0 and 100' };
  return { ok: true, value };
}
