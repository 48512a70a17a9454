/**
 * The nftables ruleset as data (sets, maps, chains) and its rendering to one `nft -f`
 * script. Kept apart from the building so that full scripts and incremental updates
 * come from the same model.
 */
import { ipToBigInt } from '../../ir/address.js';

/** Generated names across the node back ends hash content the same way. */
export { shortHash } from '../../ir/canonical.js';

export const TABLE = 'netintent';
export const FAMILY = 'inet';

export interface NftSet {
  name: string;
  kind: 'set' | 'map';
  /** e.g. `ipv4_addr`, `ipv4_addr . inet_proto . inet_service`, `ipv4_addr : verdict`. */
  type: string;
  interval: boolean;
  /** Default element lifetime (`300s`) for sets filled at run time, e.g. by dnsmasq. */
  timeout?: string;
  comment: string;
  /** Element texts (`10.0.0.1`, `10.0.0.0/8`, `10.0.0.1 : goto p_ab12`), sorted, unique. */
  elements: string[];
}

export interface NftChain {
  name: string;
  /** Base chain header (`type filter hook forward priority filter; policy accept;`). */
  hook?: string;
  /** Statements in order, each with its comment already attached. */
  rules: string[];
}

export interface NftRuleset {
  sets: Map<string, NftSet>;
  chains: Map<string, NftChain>;
}

/** A dotted quad's value as a plain number (BigInt arithmetic costs several times more; this runs on every element). */
function ipv4Key(text: string, end: number): number {
  let key = 0;
  let octet = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      key = key * 256 + octet;
      octet = 0;
    } else octet = octet * 10 + (c - 48);
  }
  return key * 256 + octet;
}

interface ElementOrder {
  family: number;
  /** A number for IPv4, a BigInt for IPv6: keys are compared within a family only. */
  value: number | bigint;
  text: string;
}

/** Where an element sorts: family, then numeric address, then the rest of the text. */
function elementOrder(text: string): ElementOrder {
  // The leading address, if any, ends at the first character that cannot be part of one.
  let end = 0;
  let colon = false;
  let dot = false;
  for (; end < text.length; end++) {
    const c = text.charCodeAt(end);
    if (c === 58) colon = true;
    else if (c === 46) dot = true;
    else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) break;
  }
  if (!colon && !dot) return { text, family: 0, value: 0 };
  return colon ? { text, family: 6, value: ipToBigInt(text.slice(0, end)) } : { text, family: 4, value: ipv4Key(text, end) };
}

function compareOrder(a: ElementOrder, b: ElementOrder): number {
  return a.family - b.family || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0) || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0);
}

/** Unique elements in address order (family, then numeric value, then the rest of the text). */
export function sortElements(elements: readonly string[]): string[] {
  return [...new Set(elements)].map(elementOrder).sort(compareOrder).map((k) => k.text);
}

/** The first position in sorted `elements` whose element does not sort before `element`. */
function lowerBound(elements: readonly string[], element: ElementOrder): number {
  let lo = 0;
  let hi = elements.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareOrder(elementOrder(elements[mid]!), element) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One step of an element patch: `element` inserted at, or removed from, position `at`. */
export interface ElementEdit {
  at: number;
  element: string;
  add: boolean;
}

/**
 * The edits that take sorted `elements` to the same without `removed` and with `added` (both
 * sorted, unique), as sortElements would give them; undefined when a removed element is
 * missing or an added one already there (elements that do not belong to this set).
 */
export function planElementEdits(elements: readonly string[], removed: readonly string[], added: readonly string[]): ElementEdit[] | undefined {
  const edits = [...removed.map((e) => ({ at: lowerBound(elements, elementOrder(e)), element: e, add: false })), ...added.map((e) => ({ at: lowerBound(elements, elementOrder(e)), element: e, add: true }))];
  if (edits.some((x) => (elements[x.at] === x.element) === x.add)) return undefined;
  // At one position, additions go before the element there, which a removal then takes out.
  return edits.sort((x, y) => x.at - y.at || Number(y.add) - Number(x.add) || compareOrder(elementOrder(x.element), elementOrder(y.element)));
}

/**
 * Applies planned edits in place, from the last position back so that the earlier positions
 * still hold: a set of the whole cluster changes by a few splices, never a copy.
 */
export function applyElementEdits(elements: string[], edits: readonly ElementEdit[]): void {
  for (let k = edits.length - 1; k >= 0; k--) {
    const { at, element, add } = edits[k]!;
    if (add) elements.splice(at, 0, element);
    else elements.splice(at, 1);
  }
}

/** nft rejects comments over 128 bytes and has no escape for `"`. */
export function comment(text: string): string {
  let clean = text.replace(/["\\\n\r]/g, "'");
  while (Buffer.byteLength(clean, 'utf8') > 128) clean = clean.slice(0, -1);
  return `comment "${clean}"`;
}

function renderSet(set: NftSet): string[] {
  const lines = [`\t${set.kind} ${set.name} {`, `\t\ttype ${set.type}`];
  if (set.interval || set.timeout) lines.push(`\t\tflags ${[set.interval ? 'interval' : '', set.timeout ? 'timeout' : ''].filter(Boolean).join(', ')}`);
  if (set.timeout) lines.push(`\t\ttimeout ${set.timeout}`);
  lines.push(`\t\t${comment(set.comment)}`);
  if (set.elements.length > 0) lines.push(`\t\telements = { ${set.elements.join(',\n\t\t\t     ')} }`);
  lines.push('\t}');
  return lines;
}

function renderChain(chain: NftChain): string[] {
  return [`\tchain ${chain.name} {`, ...(chain.hook ? [`\t\t${chain.hook}`] : []), ...chain.rules.map((r) => `\t\t${r}`), '\t}'];
}

/** Base chains first, then everything by name: the same model always gives the same bytes. */
export function sortedChains(ruleset: NftRuleset): NftChain[] {
  return [...ruleset.chains.values()].sort((a, b) => Number(!a.hook) - Number(!b.hook) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function sortedSets(ruleset: NftRuleset): NftSet[] {
  return [...ruleset.sets.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * One atomic transaction: `add table` makes the `delete` valid on first use, the `delete`
 * drops the previous generation, and the block recreates it. Other tables are untouched.
 */
export function renderScript(ruleset: NftRuleset, header: string): string {
  const out = [`#!/usr/sbin/nft -f`, ...header.split('\n').map((l) => `# ${l}`), `add table ${FAMILY} ${TABLE}`, `delete table ${FAMILY} ${TABLE}`, `table ${FAMILY} ${TABLE} {`];
  const blocks = [...sortedSets(ruleset).map(renderSet), ...sortedChains(ruleset).map(renderChain)];
  blocks.forEach((b, i) => {
    if (i > 0) out.push('');
    out.push(...b);
  });
  out.push('}', '');
  return out.join('\n');
}

export function nodeHeader(nodeName: string): string {
  return `netintent ruleset for node ${nodeName}: generated from the intents, do not edit.`;
}
