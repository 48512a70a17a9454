/**
 * Edge: the L7 proxies of one node. Applies the node script from src/backends/l7, runs
 * HAProxy and the dnsmasq instances, and keeps L7-guarded ports closed while their proxy
 * is down: the proxy ports go into the nft set `l7_down` (dropped) until it is back.
 * Every outage is reported as NI8307. The answers dnsmasq logs restart the timeouts of the
 * FQDN set elements they feed (src/backends/l7/fqdn.ts).
 */
import { mkdir } from 'node:fs/promises';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { applyNftScript } from '../backends/nftables/apply.js';
import { FAMILY as NFT_FAMILY, TABLE as NFT_TABLE } from '../backends/nftables/model.js';
import { fqdnSetsOfAnswer, L7_DOWN_SET, parseDnsmasqReply, renderFqdnRefresh, type HaproxyAclChange, type NodeL7Output } from '../backends/l7/index.js';
import { HaproxyProxy } from './haproxy.js';
import { DnsmasqProxy } from './dnsmasq.js';
import type { ProxyState } from './supervise.js';

export interface NodeL7Options {
  node: string;
  /** Working directory for configurations and sockets. */
  dir: string;
  netns?: string;
  haproxyBin?: string;
  dnsmasqBin?: string;
  /** Outages (NI8307) and other runtime diagnostics. */
  report?(d: Diagnostic): void;
}

export class NodeL7Proxies {
  haproxy: HaproxyProxy | undefined;
  readonly dnsmasq = new Map<string, { proxy: DnsmasqProxy; config: string }>();
  /** Proxy ports currently closed in @l7_down. */
  private readonly closed = new Set<number>();
  /** Serialises set updates: state changes arrive from several processes at once. */
  private nftQueue: Promise<unknown> = Promise.resolve();
  /** FQDN pattern → IPv4 set name, of the output applied last. */
  private fqdnSets: ReadonlyMap<string, string> = new Map();
  /** FQDN set elements whose timeout restarts at the next flush, by `set ip`. */
  private readonly refreshes = new Map<string, { set: string; ip: string }>();
  private refreshTimer: NodeJS.Timeout | undefined;
  /** How long answers are gathered into one refresh transaction. */
  private static readonly REFRESH_BATCH_MS = 50;

  constructor(private readonly opts: NodeL7Options) {}

  private nft(script: string): Promise<void> {
    const run = this.nftQueue.then(async () => {
      const r = await applyNftScript(script, this.opts.netns ? { netns: this.opts.netns } : {});
      if (!r.ok) throw new Error(`nft: ${r.stderr.trim()}`);
    });
    this.nftQueue = run.catch(() => {});
    return run;
  }

  private setClosed(ports: number[], closed: boolean): Promise<void> {
    const change = ports.filter((p) => this.closed.has(p) !== closed);
    if (change.length === 0) return Promise.resolve();
    for (const p of change) if (closed) this.closed.add(p);
    else this.closed.delete(p);
    return this.nft(`${closed ? 'add' : 'delete'} element ${NFT_FAMILY} ${NFT_TABLE} ${L7_DOWN_SET} { ${change.join(', ')} }\n`);
  }

  private watcher(what: string, pkg: string, ports: () => number[]): (state: ProxyState, detail: string) => void {
    return (state, detail) => {
      if (state === 'down') {
        this.opts.report?.(diag('NI8307', undefined, [what, this.opts.node, detail, pkg]));
        void this.setClosed(ports(), true).catch((e: Error) => this.opts.report?.(diag('NI9004', undefined, [e.message])));
      } else if (state === 'up') {
        void this.setClosed(ports(), false).catch((e: Error) => this.opts.report?.(diag('NI9004', undefined, [e.message])));
      }
    };
  }

  /**
   * Applies a rendered node output: the nft script (see `applyRuleset`), then the proxies
   * (see `applyProxies`).
   */
  async apply(out: NodeL7Output): Promise<void> {
    await this.applyRuleset(out);
    await this.applyProxies(out);
  }

  /**
   * Replaces the table with `out.nftScript` and, in the same transaction, closes every proxy
   * port whose proxy is not up yet (so a fresh table never lets a guarded port through) and
   * applies `alongside` (e.g. the agent's other table). Throws when nft refuses it.
   */
  async applyRuleset(out: NodeL7Output, alongside = ''): Promise<void> {
    const httpPorts = out.plan.http.map((t) => t.proxyPort);
    const allPorts = [...httpPorts, ...out.plan.dns.map((d) => d.proxyPort)];
    const up = new Set<number>([...(this.haproxy?.state === 'up' ? httpPorts : []), ...out.plan.dns.filter((d) => this.dnsmasq.get(d.name)?.proxy.state === 'up').map((d) => d.proxyPort)]);
    const down = allPorts.filter((p) => !up.has(p));
    const close = down.length ? `add element ${NFT_FAMILY} ${NFT_TABLE} ${L7_DOWN_SET} { ${down.join(', ')} }\n` : '';
    await this.nft([out.nftScript, close, alongside].filter(Boolean).join('\n'));
    this.closed.clear();
    for (const p of down) this.closed.add(p);
  }

  /** A logged dnsmasq answer: the elements it fed get their timeout restarted (batched). */
  private answered(line: string): void {
    const answer = parseDnsmasqReply(line);
    if (!answer) return;
    for (const set of fqdnSetsOfAnswer(answer, this.fqdnSets)) this.refreshes.set(`${set} ${answer.ip}`, { set, ip: answer.ip });
    if (this.refreshes.size === 0 || this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      const script = renderFqdnRefresh([...this.refreshes.values()]);
      this.refreshes.clear();
      // On failure (the table was being replaced) the element keeps dnsmasq's default timeout: it can only expire early.
      this.nft(script).catch((e: Error) => this.opts.report?.(diag('NI9004', undefined, [`FQDN timeout refresh: ${e.message}`])));
    }, NodeL7Proxies.REFRESH_BATCH_MS);
  }

  /** Starts, reloads or stops the proxies of `out`; each proxy's ports open once it is up. */
  async applyProxies(out: NodeL7Output): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true });
    this.fqdnSets = out.plan.fqdnSets;
    const httpPorts = out.plan.http.map((t) => t.proxyPort);
    if (out.haproxyConfig) {
      if (!this.haproxy) {
        this.haproxy = new HaproxyProxy({ dir: this.opts.dir, ...(this.opts.netns ? { netns: this.opts.netns } : {}), ...(this.opts.haproxyBin ? { bin: this.opts.haproxyBin } : {}), onState: this.watcher('haproxy', 'haproxy', () => httpPorts) });
        await this.reportFailure('haproxy', 'haproxy', this.haproxy.start(out.haproxyConfig, out.haproxyAcls));
      } else await this.haproxy.reload(out.haproxyConfig, out.haproxyAcls);
      await this.setClosed(httpPorts, false);
    } else if (this.haproxy) {
      await this.haproxy.stop();
      this.haproxy = undefined;
    }

    const wanted = new Map(out.dnsmasq.map((c) => [c.instance, c]));
    for (const [name, running] of this.dnsmasq) {
      if (wanted.has(name)) continue;
      await running.proxy.stop();
      this.dnsmasq.delete(name);
    }
    for (const c of out.dnsmasq) {
      const running = this.dnsmasq.get(c.instance);
      if (running && running.config === c.config) continue;
      if (running) await running.proxy.restart(c.config);
      else {
        const proxy = new DnsmasqProxy({
          dir: this.opts.dir,
          instance: c.instance,
          address: out.plan.nodeIp,
          port: c.port,
          ...(this.opts.netns ? { netns: this.opts.netns } : {}),
          ...(this.opts.dnsmasqBin ? { bin: this.opts.dnsmasqBin } : {}),
          onState: this.watcher(`dnsmasq ${c.instance}`, 'dnsmasq-base', () => [c.port]),
          onLine: (line) => this.answered(line),
        });
        this.dnsmasq.set(c.instance, { proxy, config: c.config });
        await this.reportFailure(`dnsmasq ${c.instance}`, 'dnsmasq-base', proxy.start(c.config));
      }
      this.dnsmasq.get(c.instance)!.config = c.config;
      await this.setClosed([c.port], false);
    }
  }

  /**
   * Changes HAProxy's source ACLs to those of `out`, whose configuration is the one running,
   * without a reload, in the two steps the caller puts around the nft transaction that
   * steers the pods: `add` (before it) writes the ACL files, so that a restart loads the
   * new lists, and adds the new sources in the workers, so a newly steered client is known;
   * `remove` (after it) removes the sources no longer steered. A runtime failure falls back
   * to a reload of `out`, which stands for both steps: returns its reason then (undefined
   * when the update was done at run time). Throws when the reload fails too.
   */
  async updateHaproxyAcls(out: NodeL7Output, changes: readonly HaproxyAclChange[], step: 'add' | 'remove'): Promise<string | undefined> {
    if (!this.haproxy || !out.haproxyConfig) throw new Error('HAProxy is not running: no ACL to update');
    if (step === 'add') await this.haproxy.writeAclFiles(Object.fromEntries(changes.map((c) => [c.file, out.haproxyAcls[c.file]!])));
    try {
      await this.haproxy.updateAcls(changes, step);
      return undefined;
    } catch (e) {
      await this.haproxy.reload(out.haproxyConfig, out.haproxyAcls);
      return (e as Error).message;
    }
  }

  /** A proxy that cannot start is reported (its ports stay closed) and the error passed on. */
  private async reportFailure(what: string, pkg: string, start: Promise<void>): Promise<void> {
    try {
      await start;
    } catch (e) {
      this.opts.report?.(diag('NI8307', undefined, [what, this.opts.node, (e as Error).message, pkg]));
      throw e;
    }
  }

  /** Ports currently held closed because their proxy is down. */
  closedPorts(): number[] {
    return [...this.closed].sort((a, b) => a - b);
  }

  async stop(): Promise<void> {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    this.refreshes.clear();
    await this.haproxy?.stop();
    for (const { proxy } of this.dnsmasq.values()) await proxy.stop();
    this.haproxy = undefined;
    this.dnsmasq.clear();
  }
}
