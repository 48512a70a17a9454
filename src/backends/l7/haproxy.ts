/**
 * The HAProxy configuration of one node (master-worker mode): one frontend per destination
 * pod IP and port with HTTP rules, listening on the node address at the port nftables
 * DNATs that destination to; so HAProxy knows the original destination from the port it
 * was reached on, and forwards matching requests to the pod itself.
 *
 * Inside a frontend each source group (sources decided by the same L7 rules) has its own
 * `src` ACL, so the rule sets of different groups never mix. A request is allowed when it
 * matches one HTTP match of every rule of its group; otherwise HAProxy answers 403 with a
 * body naming the rules.
 *
 * The ACLs' sources are pattern files (`src -f acl/….lst`, relative to the configuration),
 * rendered apart from the configuration: pod churn among HTTP clients changes only the
 * files, which the node agent updates in the running workers without a reload.
 */
import { diag, type Diagnostic } from '../../diagnostics/diagnostic.js';
import { spanOfSource } from '../../diagnostics/span.js';
import type { Ir, IrHttpMatch } from '../../ir/types.js';
import type { L7Plan } from './plan.js';
import { pcreDifference } from './regex.js';
import { shortHash } from '../nftables/model.js';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const METHOD = /^[A-Z]+$/;
const HOST = /^[a-z0-9.:[\]-]+$/;

/**
 * One HAProxy word. Single quotes turn off every expansion (`$VAR`, `\`), and a single quote
 * itself is written as `\'` between two quoted parts, which HAProxy joins into one word.
 */
export function haproxyWord(text: string): string {
  return `'${text.split("'").join(`'\\''`)}'`;
}

/** The text of a 403 body: printable ASCII only, quoted. */
function bodyText(text: string): string {
  return haproxyWord(text.replace(/[^\x20-\x7e]/g, '?'));
}

const ruleName = (id: string): string => id.replace(/^rule:/, '');

function sourceText(ir: Ir, id: string): string {
  const ref = ir.sources[id]?.[0];
  return ref ? ` (${ref.file}:${ref.line})` : '';
}

/** ACL conditions for one HTTP match, or diagnostics when it cannot be rendered faithfully. */
function matchConditions(ir: Ir, ruleId: string, m: IrHttpMatch, diagnostics: Diagnostic[]): string[] | undefined {
  const span = spanOfSource(ir.sources[ruleId]?.[0]);
  const bad = (what: string, value: string, why: string): undefined => {
    diagnostics.push(diag('NI8303', span, [what, JSON.stringify(value), ruleName(ruleId), why]));
    return undefined;
  };
  const conds: string[] = [];
  if (m.method !== undefined) {
    if (!METHOD.test(m.method)) return bad('method', m.method, 'methods are upper-case tokens');
    conds.push(`{ method ${m.method} }`);
  }
  if (m.path !== undefined) {
    try {
      new RegExp(m.path);
    } catch (e) {
      return bad('path', m.path, (e as Error).message);
    }
    const why = pcreDifference(m.path);
    if (why) {
      diagnostics.push(diag('NI8302', span, [JSON.stringify(m.path), ruleName(ruleId), why]));
      return undefined;
    }
    // Anchored: the whole path must match, as in Cilium.
    conds.push(`{ path_reg ${haproxyWord(`^(?:${m.path})$`)} }`);
  }
  if (m.host !== undefined) {
    if (!HOST.test(m.host)) return bad('host', m.host, 'a host is a DNS name or address, optionally with a port');
    // Host without its port, case-insensitively.
    conds.push(m.host.includes(':') && !m.host.startsWith('[') ? `{ req.hdr(host),lower -m str ${haproxyWord(m.host)} }` : `{ req.hdr(host),lower,regsub(:[0-9]+$,) -m str ${haproxyWord(m.host)} }`);
  }
  for (const h of m.headers) {
    if (!HEADER_NAME.test(h.name)) return bad('header name', h.name, 'not an RFC 9110 token');
    if (h.value === undefined) conds.push(`{ req.hdr_cnt(${h.name}) gt 0 }`);
    else {
      if (/[\x00-\x08\x0a-\x1f\x7f]/.test(h.value)) return bad('header value', h.value, 'control characters');
      // fhdr: the full value, not split at commas.
      conds.push(`{ req.fhdr(${h.name}) -m str ${haproxyWord(h.value)} }`);
    }
  }
  return conds;
}

export interface HaproxyRenderOptions {
  /** Connection limit per worker. */
  maxconn?: number;
}

/** Source ACL files: path relative to the HAProxy configuration's directory → patterns (pod IPs, CIDRs), sorted. */
export type HaproxyAclFiles = Record<string, string[]>;

/** A source ACL file whose patterns differ between two renders. */
export interface HaproxyAclChange {
  file: string;
  add: string[];
  remove: string[];
}

/**
 * The pattern changes from `applied` to `next` for the files both have (a file that comes
 * or goes comes with a changed configuration, which a reload loads whole).
 */
export function diffHaproxyAcls(applied: HaproxyAclFiles, next: HaproxyAclFiles): HaproxyAclChange[] {
  const changes: HaproxyAclChange[] = [];
  for (const [file, patterns] of Object.entries(next)) {
    const before = applied[file];
    if (!before) continue;
    const had = new Set(before);
    const has = new Set(patterns);
    const add = patterns.filter((p) => !had.has(p));
    const remove = before.filter((p) => !has.has(p));
    if (add.length + remove.length) changes.push({ file, add, remove });
  }
  return changes;
}

export function renderHaproxyConfig(ir: Ir, plan: L7Plan, opts: HaproxyRenderOptions = {}): { config: string; aclFiles: HaproxyAclFiles; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const aclFiles: HaproxyAclFiles = {};
  const out: string[] = [
    `# netintent HAProxy configuration for node ${plan.node}: generated from the intents, do not edit.`,
    'global',
    '    master-worker',
    // The ACL files are named relative to this file, so the configuration does not depend on where it is written.
    '    default-path config',
    `    maxconn ${opts.maxconn ?? 4096}`,
    // Old workers finish their requests after a reload, but not forever.
    '    hard-stop-after 30s',
    '',
    'defaults',
    '    mode http',
    '    option http-keep-alive',
    '    timeout connect 5s',
    '    timeout client 60s',
    '    timeout server 60s',
    '    timeout http-request 10s',
    '    timeout http-keep-alive 60s',
  ];
  for (const t of plan.http) {
    const name = `pod_${t.podIp.replace(/[.:]/g, '_')}_${t.port}`;
    out.push('', `# ${t.pod} ${t.podIp}:${t.port}`, `frontend ${name}`, `    bind ${plan.nodeIp}:${t.proxyPort}`);
    for (const g of t.groups) {
      const acl = `from_${shortHash(g.rules.join(','))}`;
      const names = g.rules.map((id) => `${ruleName(id)}${sourceText(ir, id)}`).join(' and ');
      // One file per frontend and group: the same rules can admit other sources to another destination.
      const file = `acl/${name}.${acl}.lst`;
      aclFiles[file] = [...g.sources];
      out.push(`    # sources decided by ${names}`, `    acl ${acl} src -f ${file}`);
      // Every rule of the group must admit the request: the product of their matches.
      let combos: string[][] = [[]];
      let renderable = true;
      for (const id of g.rules) {
        const matches = ir.rules.find((r) => r.id === id)?.l7?.http ?? [];
        const alternatives = matches.map((m) => matchConditions(ir, id, m, diagnostics));
        if (alternatives.some((a) => a === undefined)) renderable = false;
        combos = combos.flatMap((c) => alternatives.flatMap((a) => (a ? [[...c, ...a]] : [])));
      }
      if (renderable) for (const c of combos) out.push(`    http-request allow if ${[acl, ...c].join(' ')}`);
      out.push(`    http-request return status 403 content-type text/plain string ${bodyText(`netintent: request denied: no HTTP match of rule ${names}`)} if ${acl}`);
    }
    out.push(`    http-request return status 403 content-type text/plain string ${bodyText(`netintent: request denied: source not admitted by any HTTP rule for ${t.pod}:${t.port}`)}`, `    default_backend ${name}`);
    out.push('', `backend ${name}`, `    server ${t.pod.replace(/[^A-Za-z0-9_.-]/g, '_')} ${t.podIp}:${t.port}`);
  }
  return { config: out.join('\n') + '\n', aclFiles, diagnostics };
}
