/**
 * Edge: applies the tc back end's per-pod commands and creates/removes the ifb devices
 * through long-lived `tc`/`ip` batch sessions (no process start per pod change), observes
 * what is in place, and falls back to what the kernel has (a short TBF leaf when fq_codel
 * is missing; no netem when sch_netem is).
 */
import { ifbName, needsIfb, podTcCommands, removeTcCommands, ROOT_HANDLE, type LeafKind, type PodShaping } from '../backends/tc/index.js';
import { iproute2Dialect, ToolSession, type SessionResult } from '../backends/tool-session.js';
import { runTool, type HostOptions } from './exec.js';

export interface TcObserved {
  /** Devices whose root qdisc is our HTB. */
  ourRoots: Set<string>;
  /** Devices with an ingress qdisc. */
  ingress: Set<string>;
  /** Existing ifb devices. */
  ifbs: Set<string>;
}

export interface TcApplyResult {
  ok: boolean;
  error?: string;
  /** Kernel features found missing while applying (e.g. `netem`). */
  missing: string[];
}

const UNKNOWN_KIND = /qdisc kind is unknown/i;

export class TcEdge {
  /** Leaf qdisc in use: fq_codel until the kernel says it has none. */
  leaf: LeafKind = 'fq_codel';
  netem = true;

  private readonly tc: ToolSession;
  private readonly ipLinks: ToolSession;

  constructor(private readonly host: HostOptions = {}) {
    this.tc = new ToolSession(iproute2Dialect('tc', host.netns));
    this.ipLinks = new ToolSession(iproute2Dialect('ip', host.netns));
  }

  /** Ends the batch sessions (on shutdown; the next batch, if any, starts fresh processes). */
  close(): void {
    this.tc.close();
    this.ipLinks.close();
  }

  /** Runs tc commands as one batch: a failing one is reported and the rest still run. */
  private tcBatch(lines: readonly string[]): Promise<Pick<SessionResult, 'ok' | 'stderr'>> {
    return lines.length ? this.tc.run(lines) : Promise.resolve({ ok: true, stderr: '' });
  }

  async observe(): Promise<TcObserved> {
    const [q, l] = await Promise.all([runTool(['tc', '-j', 'qdisc', 'show'], this.host), runTool(['ip', '-j', 'link', 'show', 'type', 'ifb'], this.host)]);
    const qdiscs = q.ok && q.stdout.trim() ? (JSON.parse(q.stdout) as { kind: string; handle: string; dev: string; root?: boolean }[]) : [];
    const links = l.ok && l.stdout.trim() ? (JSON.parse(l.stdout) as { ifname: string }[]) : [];
    return {
      ourRoots: new Set(qdiscs.filter((x) => x.root && x.handle === ROOT_HANDLE && x.kind === 'htb').map((x) => x.dev)),
      ingress: new Set(qdiscs.filter((x) => x.kind === 'ingress').map((x) => x.dev)),
      ifbs: new Set(links.map((x) => x.ifname)),
    };
  }

  /** Host interfaces that carry our shaping (root HTB, or an ingress redirected to our ifb). */
  shapedDevices(o: TcObserved): string[] {
    return [...new Set([...o.ourRoots].filter((d) => !o.ifbs.has(d) || !d.startsWith('nib')).concat([...o.ingress].filter((d) => o.ifbs.has(ifbName(d)))))].sort();
  }

  /** Link changes whose failure the caller sees from the next observation (an ifb that exists already is fine). */
  private async links(lines: readonly string[]): Promise<void> {
    await this.ipLinks.run(lines);
    // iproute2 caches name → index for the life of a process: a device deleted (and maybe
    // created again under its name) would be looked up stale. Deletions are rare; start afresh.
    if (lines.some((l) => l.startsWith('link del '))) this.close();
  }

  async applyPod(s: PodShaping, hostDev: string, o: TcObserved): Promise<TcApplyResult> {
    const missing: string[] = [];
    const ifb = ifbName(hostDev);
    if (needsIfb(s) && !o.ifbs.has(ifb)) {
      await this.links([`link add ${ifb} type ifb`, `link set ${ifb} up`]);
      o.ifbs.add(ifb);
    }
    for (;;) {
      const shaping = this.netem ? s : { ...s, netem: undefined };
      const lines = podTcCommands(shaping, hostDev, this.leaf, { hostRootIsOurs: o.ourRoots.has(hostDev), ifbRootIsOurs: o.ourRoots.has(ifb) });
      if (!needsIfb(shaping) && o.ingress.has(hostDev) && o.ifbs.has(ifb)) lines.push(`qdisc del dev ${hostDev} ingress`);
      const r = await this.tcBatch(lines);
      if (!r.ok && UNKNOWN_KIND.test(r.stderr)) {
        // Which kind is missing: the leaf fallback first, then netem.
        if (this.leaf === 'fq_codel') {
          this.leaf = 'tbf';
          missing.push('fq_codel');
          await this.refresh(o, hostDev, ifb);
          continue;
        }
        if (this.netem && s.netem) {
          this.netem = false;
          missing.push('netem');
          await this.refresh(o, hostDev, ifb);
          continue;
        }
      }
      await this.refresh(o, hostDev, ifb);
      if (!needsIfb(shaping) && o.ifbs.has(ifb)) {
        await this.links([`link del ${ifb}`]);
        o.ifbs.delete(ifb);
      }
      return r.ok ? { ok: true, missing } : { ok: false, error: r.stderr.trim().split('\n').slice(-2).join(' '), missing };
    }
  }

  /** Re-reads whether our roots exist after a (possibly partial) batch. */
  private async refresh(o: TcObserved, ...devs: string[]): Promise<void> {
    const now = await this.observe();
    for (const d of devs) {
      if (now.ourRoots.has(d)) o.ourRoots.add(d);
      else o.ourRoots.delete(d);
      if (now.ingress.has(d)) o.ingress.add(d);
      else o.ingress.delete(d);
    }
  }

  /** Removes every trace of our shaping from a host interface. */
  async removeDevice(hostDev: string, o: TcObserved): Promise<TcApplyResult> {
    const ifb = ifbName(hostDev);
    const lines = removeTcCommands(hostDev, { hostRootIsOurs: o.ourRoots.has(hostDev), ingressIsOurs: o.ingress.has(hostDev) && o.ifbs.has(ifb) });
    const r = await this.tcBatch(lines);
    if (o.ifbs.has(ifb)) await this.links([`link del ${ifb}`]);
    o.ourRoots.delete(hostDev);
    o.ourRoots.delete(ifb);
    o.ingress.delete(hostDev);
    o.ifbs.delete(ifb);
    return r.ok ? { ok: true, missing: [] } : { ok: false, error: r.stderr.trim(), missing: [] };
  }

  private runBatch(items: readonly { s: PodShaping; dev: string }[], o: TcObserved): Promise<Pick<SessionResult, 'ok' | 'stderr'>> {
    const lines = items.flatMap(({ s, dev }) => [
      ...podTcCommands(this.netem ? s : { ...s, netem: undefined }, dev, this.leaf, { hostRootIsOurs: o.ourRoots.has(dev), ifbRootIsOurs: o.ourRoots.has(ifbName(dev)) }),
      ...(!needsIfb(s) && o.ingress.has(dev) && o.ifbs.has(ifbName(dev)) ? [`qdisc del dev ${dev} ingress`] : []),
    ]);
    return this.tcBatch(lines);
  }

  /**
   * Applies many pods with one `ip -batch` and one `tc -batch` (a full apply of hundreds
   * of pods costs a few processes, not hundreds); if the batch fails, pod by pod, so that
   * one bad pod (or one that vanished) does not hold the others back.
   */
  async applyPods(items: readonly { s: PodShaping; dev: string }[], o: TcObserved): Promise<Map<string, TcApplyResult>> {
    const results = new Map<string, TcApplyResult>();
    if (items.length === 0) return results;
    const newIfbs = [...new Set(items.filter((i) => needsIfb(i.s)).map((i) => ifbName(i.dev)).filter((n) => !o.ifbs.has(n)))];
    if (newIfbs.length) {
      await this.links(newIfbs.flatMap((n) => [`link add ${n} type ifb`, `link set ${n} up`]));
      for (const n of newIfbs) o.ifbs.add(n);
    }
    let r = await this.runBatch(items, o);
    // The kernel lacks fq_codel: switch the leaf once and redo the batch (replace is idempotent).
    if (!r.ok && UNKNOWN_KIND.test(r.stderr) && this.leaf === 'fq_codel') {
      this.leaf = 'tbf';
      Object.assign(o, await this.observe());
      r = await this.runBatch(items, o);
      for (const { dev } of items) results.set(dev, { ok: true, missing: ['fq_codel'] });
    }
    if (r.ok) {
      for (const { s, dev } of items) {
        const ifb = ifbName(dev);
        if (s.ingressBps !== undefined) o.ourRoots.add(dev);
        else o.ourRoots.delete(dev);
        if (needsIfb(s)) {
          o.ourRoots.add(ifb);
          o.ingress.add(dev);
        } else if (o.ifbs.has(ifb)) {
          await this.links([`link del ${ifb}`]);
          o.ifbs.delete(ifb);
          o.ourRoots.delete(ifb);
          o.ingress.delete(dev);
        }
        results.set(dev, { ok: true, missing: results.get(dev)?.missing ?? [] });
      }
      return results;
    }
    // Pod by pod from what the kernel holds, in fresh processes: a pod's interface may have
    // been replaced under the same name (see links()).
    this.close();
    Object.assign(o, await this.observe());
    for (const { s, dev } of items) results.set(dev, await this.applyPod(s, dev, o));
    return results;
  }

  /**
   * Devices whose shaping is not what was applied (root HTB, leaf, ingress redirect, class
   * rate), with three processes whatever the number of pods.
   */
  async drifted(expected: readonly { s: PodShaping; dev: string }[]): Promise<string[]> {
    const o = await this.observe();
    const q = await runTool(['tc', '-j', 'qdisc', 'show'], this.host);
    const qdiscs = q.ok && q.stdout.trim() ? (JSON.parse(q.stdout) as { kind: string; dev: string; parent?: string }[]) : [];
    const leafOf = (dev: string): string | undefined => qdiscs.find((x) => x.dev === dev && x.parent === '1a1e:1')?.kind;
    const classDevs: { dev: string; bps: number }[] = [];
    const bad = new Set<string>();
    const wantLeaf = (netem: boolean): string => (netem && this.netem ? 'netem' : this.leaf);
    for (const { s, dev } of expected) {
      if (s.ingressBps !== undefined) {
        if (!o.ourRoots.has(dev) || leafOf(dev) !== wantLeaf(false)) bad.add(dev);
        else classDevs.push({ dev, bps: s.ingressBps });
      } else if (o.ourRoots.has(dev)) bad.add(dev);
      const ifb = ifbName(dev);
      if (needsIfb(s)) {
        if (!o.ingress.has(dev) || !o.ifbs.has(ifb) || !o.ourRoots.has(ifb) || leafOf(ifb) !== wantLeaf(s.netem !== undefined)) bad.add(dev);
        else if (s.egressBps !== undefined) classDevs.push({ dev: ifb, bps: s.egressBps });
      }
    }
    if (classDevs.length) {
      const c = await runTool(['tc', '-batch', '-'], { ...this.host, input: classDevs.map((d) => `class show dev ${d.dev}`).join('\n') + '\n' });
      const rates = c.stdout.split('\n').filter((l) => l.startsWith('class htb 1a1e:1 ')).map((l) => parseRate(/ rate (\S+)/.exec(l)?.[1] ?? ''));
      classDevs.forEach((d, i) => {
        const got = rates.length === classDevs.length ? rates[i] : undefined;
        if (got === undefined || Math.abs(got - d.bps) > d.bps * 0.01) bad.add(d.dev.startsWith('nib') ? expected.find((e) => ifbName(e.dev) === d.dev)!.dev : d.dev);
      });
    }
    return [...bad].sort();
  }
}

/** tc's rate text (`10Mbit`, `12345Kbit`, `800bit`) → bits/s. */
export function parseRate(text: string): number | undefined {
  const m = /^([\d.]+)(K|M|G|T)?bit$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] ?? '']!;
}
