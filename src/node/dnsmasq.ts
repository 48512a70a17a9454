/**
 * Edge: runs one dnsmasq per DNS rule instance (src/backends/l7) in the node's network
 * namespace. dnsmasq rereads no configuration on SIGHUP, so a changed configuration
 * restarts it (DNS clients retry); a crash is reported and dnsmasq restarted.
 */
import { writeFile } from 'node:fs/promises';
import dgram from 'node:dgram';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { SupervisedProcess, type ProxyState } from './supervise.js';

export interface DnsmasqOptions {
  /** Directory for the configuration file (created by the caller). */
  dir: string;
  /** Instance name from the plan (`dns_<hash>`): the file name. */
  instance: string;
  /** Address and port it listens on, to probe readiness. */
  address: string;
  port: number;
  netns?: string;
  bin?: string;
  onState?(state: ProxyState, detail: string): void;
  /** Every line dnsmasq logs (with `log-queries`: its answers). */
  onLine?(line: string): void;
}

/** A minimal DNS query for `name`/A; resolves with the response code once any answer arrives. */
function probeQuery(): Buffer {
  const name = Buffer.concat([Buffer.from([5]), Buffer.from('probe'), Buffer.from([7]), Buffer.from('invalid'), Buffer.from([0])]);
  return Buffer.concat([Buffer.from([0x4e, 0x49, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), name, Buffer.from([0, 1, 0, 1])]);
}

export class DnsmasqProxy {
  readonly configPath: string;
  private readonly process: SupervisedProcess;

  constructor(private readonly opts: DnsmasqOptions) {
    this.configPath = join(opts.dir, `${opts.instance}.conf`);
    this.process = new SupervisedProcess({
      name: `dnsmasq ${opts.instance}`,
      debianPackage: 'dnsmasq-base',
      argv: [opts.bin ?? 'dnsmasq', '--keep-in-foreground', '--pid-file', `--conf-file=${this.configPath}`, '--log-facility=-'],
      ...(opts.netns ? { netns: opts.netns } : {}),
      ready: () => this.waitForAnswer(5000),
      ...(opts.onState ? { onState: opts.onState } : {}),
      ...(opts.onLine ? { onLine: opts.onLine } : {}),
    });
  }

  get state(): ProxyState {
    return this.process.state;
  }

  /** The last 8 KiB dnsmasq printed (its log goes to stderr), for reports. */
  get output(): string {
    return this.process.output;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get restarts(): number {
    return this.process.restarts;
  }

  /** Rejects with dnsmasq's message when the configuration is invalid. */
  validate(): Promise<void> {
    const bin = this.opts.bin ?? 'dnsmasq';
    return new Promise((resolve, reject) => {
      execFile(bin, ['--test', `--conf-file=${this.configPath}`], (err, _o, stderr) => {
        if (!err) return resolve();
        const e = err as NodeJS.ErrnoException;
        reject(new Error(e.code === 'ENOENT' ? `\`${bin}\` not found (Debian package dnsmasq-base)` : `invalid dnsmasq configuration: ${stderr.trim()}`));
      });
    });
  }

  async start(config: string): Promise<void> {
    await writeFile(this.configPath, config);
    await this.validate();
    await this.process.start();
  }

  async restart(config: string): Promise<void> {
    await this.process.stop();
    await this.start(config);
  }

  /** Ready once it answers a query on its port (any response code). */
  private async waitForAnswer(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const exec = this.opts.netns ? ['ip', 'netns', 'exec', this.opts.netns] : [];
    for (;;) {
      const answered = exec.length ? await this.probeInNetns(exec) : await this.probeHere();
      if (answered) return;
      if (Date.now() > deadline) throw new Error(`dnsmasq ${this.opts.instance} does not answer on ${this.opts.address}:${this.opts.port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private probeHere(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = dgram.createSocket('udp4');
      const done = (ok: boolean): void => {
        clearTimeout(t);
        s.close();
        resolve(ok);
      };
      const t = setTimeout(() => done(false), 300);
      s.on('message', () => done(true));
      s.on('error', () => done(false));
      s.send(probeQuery(), this.opts.port, this.opts.address);
    });
  }

  /** The node namespace is not ours: ask from inside it with a one-line node script. */
  private probeInNetns(exec: string[]): Promise<boolean> {
    const script = `const s=require('dgram').createSocket('udp4');const t=setTimeout(()=>process.exit(1),300);s.on('message',()=>process.exit(0));s.send(Buffer.from('${probeQuery().toString('hex')}','hex'),${this.opts.port},'${this.opts.address}')`;
    return new Promise((resolve) => {
      execFile(exec[0]!, [...exec.slice(1), process.execPath, '-e', script], { timeout: 3000 }, (err) => resolve(!err));
    });
  }

  kill(): void {
    this.process.signal('SIGKILL');
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}
