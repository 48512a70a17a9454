/**
 * The L7 path on real packets: HAProxy for HTTP rules, dnsmasq for DNS rules and FQDN
 * egress, the nft steering to them, reloads, source ACL updates and outages. Needs root,
 * nft, haproxy, dnsmasq.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileTexts } from '../../src/sources/index.js';
import { renderNodeL7, type NodeL7Output } from '../../src/backends/l7/index.js';
import { NodeL7Proxies } from '../../src/node/l7.js';
import { aclPatterns, currentWorkers, masterCommand } from '../../src/node/haproxy.js';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { requireTools } from '../lab/netns.js';
import { DEATHSTAR, DNS_POD, EVIL, FOOBAR, L7Lab, LAB_INTENTS, LAB_PODS, NODE_IP, REMOTE } from './lab.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('lab: L7 proxies', () => {
  let lab: L7Lab | undefined;
  let proxies: NodeL7Proxies | undefined;
  let out: NodeL7Output;
  const reports: Diagnostic[] = [];

  beforeAll(async () => {
    requireTools({ nft: 'nftables', ip: 'iproute2', haproxy: 'haproxy', dnsmasq: 'dnsmasq-base' });
    lab = await L7Lab.create(LAB_PODS, [REMOTE, EVIL, FOOBAR], ['tcp=443']);
    const { ir, diagnostics } = compileTexts([{ path: 'lab.intent', text: LAB_INTENTS }]);
    expect(diagnostics).toEqual([]);
    out = renderNodeL7(ir!, lab.inventory(), 'lab-node');
    // Antrea's "*foobar.com": names like xfoobar.com are never learnt (stay blocked).
    expect(out.diagnostics.map((d) => d.code)).toEqual(['NI8308']);
    proxies = new NodeL7Proxies({ node: 'lab-node', dir: lab.dir, netns: lab.nodeNs, report: (d) => reports.push(d) });
    await proxies.apply(out);
    // The authoritative server answers before the tests start.
    for (let i = 0; i < 50 && (await lab.dns('kube-system/dns', DNS_POD, 'evil.com')).rcode !== 0; i++) await sleep(100);
  });
  afterAll(async () => {
    await proxies?.stop();
    await lab?.destroy();
  });

  it('POST /v1/request-landing from an empire pod reaches the pod through the proxy', async () => {
    const r = await lab!.http('starwars/tiefighter', DEATHSTAR, 80, 'POST', '/v1/request-landing');
    expect(r).toMatchObject({ status: 200 });
    // The pod saw the proxy (node address), not the client: the request took the L7 path.
    expect(r.body).toBe(`ok POST /v1/request-landing from ${NODE_IP}`);
  });

  it('GET and other paths are answered 403 by the proxy, naming the rule', async () => {
    for (const [method, path] of [['GET', '/v1/request-landing'], ['POST', '/v1/request-landing/x'], ['POST', '/v1/exhaust-port'], ['PUT', '/']] as const) {
      const r = await lab!.http('starwars/tiefighter', DEATHSTAR, 80, method, path);
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body).toContain('rule deathstar-landing/0 (lab.intent:');
    }
  });

  it('pods outside the allowed groups are blocked at L3/L4, and L4-only traffic skips the proxy', async () => {
    expect(await lab!.http('starwars/xwing', DEATHSTAR, 80, 'POST', '/v1/request-landing', 700)).toEqual({ error: 'TIMEOUT' });
    expect((await lab!.tcp('starwars/xwing', DEATHSTAR, 8080, 700)).outcome).toBe('deny');
    const direct = await lab!.http('starwars/monitor', DEATHSTAR, 80, 'GET', '/metrics');
    expect(direct).toEqual({ status: 200, body: 'ok GET /metrics from 10.123.1.4' });
  });

  it('a second HTTP rule set on another port is kept apart', async () => {
    expect(await lab!.http('starwars/tiefighter', DEATHSTAR, 8080, 'GET', '/status')).toMatchObject({ status: 200, body: `ok GET /status from ${NODE_IP}` });
    const other = await lab!.http('starwars/tiefighter', DEATHSTAR, 8080, 'POST', '/v1/request-landing');
    expect(other.status).toBe(403);
    expect(other.body).toContain('deathstar-landing/1');
    expect((await lab!.http('starwars/tiefighter', DEATHSTAR, 80, 'GET', '/status')).status).toBe(403);
  });

  it('DNS: allowed names resolve (udp and tcp), others are REFUSED, subdomains of exact names NXDOMAIN', async () => {
    expect(await lab!.dns('default/test-app', DNS_POD, 'my-remote-service.com')).toEqual({ rcode: 0, addresses: [REMOTE] });
    expect(await lab!.dns('default/test-app', DNS_POD, 'api.foobar.com', 'tcp')).toEqual({ rcode: 0, addresses: [FOOBAR] });
    expect(await lab!.dns('default/test-app', DNS_POD, 'evil.com')).toEqual({ rcode: 5, addresses: [] });
    expect(await lab!.dns('default/test-app', DNS_POD, 'evil.com', 'tcp')).toEqual({ rcode: 5, addresses: [] });
    expect(await lab!.dns('default/test-app', DNS_POD, 'sub.my-remote-service.com')).toEqual({ rcode: 3, addresses: [] });
    // A pod without DNS rules is not steered: it reaches the server directly.
    expect(await lab!.dns('starwars/monitor', DNS_POD, 'evil.com')).toEqual({ rcode: 0, addresses: [EVIL] });
  });

  it('FQDN egress: only addresses of allowed names, and only after they were resolved', async () => {
    const fresh = FOOBAR;
    // Forget what the DNS test learnt: the address is not known yet.
    lab!.nft(['flush', 'set', 'inet', 'netintent', out.plan.fqdnSets.get('*foobar.com')!]);
    expect((await lab!.tcp('default/test-app', fresh, 443, 700)).outcome).toBe('deny');
    expect((await lab!.dns('default/test-app', DNS_POD, 'api.foobar.com')).addresses).toEqual([fresh]);
    expect((await lab!.tcp('default/test-app', fresh, 443, 2000)).outcome).toBe('allow');
    // evil.com was refused, and its address is never allowed, resolved elsewhere or not.
    expect((await lab!.tcp('default/test-app', EVIL, 443, 700)).outcome).toBe('deny');
    expect((await lab!.tcp('default/test-app', REMOTE, 443, 2000)).outcome).toBe('allow');
    // The set element carries the set's timeout (dnsmasq adds none of its own).
    expect(lab!.nft(['list', 'set', 'inet', 'netintent', out.plan.fqdnSets.get('*foobar.com')!])).toMatch(new RegExp(`${fresh.replace(/\./g, '\\.')} expires \\d+`));
  });

  it('FQDN egress: every answer restarts the timeout of the address it names', async () => {
    const set = out.plan.fqdnSets.get('*foobar.com')!;
    /** Seconds until the element expires, from `nft list set` ("expires 5m29s120ms"). */
    const expiresIn = (): number => {
      const m = new RegExp(`${FOOBAR.replace(/\./g, '\\.')} expires ((?:\\d+[hms]+)+)`).exec(lab!.nft(['list', 'set', 'inet', 'netintent', set]));
      if (!m) throw new Error(`${FOOBAR} is not in ${set}`);
      const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
      return [...m[1]!.matchAll(/(\d+)(ms|h|m|s)/g)].reduce((sum, [, n, u]) => sum + Number(n) * unit[u!]!, 0);
    };
    expect((await lab!.dns('default/test-app', DNS_POD, 'api.foobar.com')).addresses).toEqual([FOOBAR]);
    await sleep(300);
    const before = expiresIn();
    expect(before).toBeGreaterThan(320); // FQDN_TIMEOUT is 330 s
    await sleep(2000);
    expect((await lab!.dns('default/test-app', DNS_POD, 'api.foobar.com')).addresses).toEqual([FOOBAR]);
    await sleep(300);
    expect(expiresIn()).toBeGreaterThan(before - 0.5);
    expect(reports.filter((d) => d.message.includes('FQDN timeout refresh'))).toEqual([]);
  });

  for (const close of [true, false]) {
    it(`a proxy reload during traffic loses no allowed request (${close ? 'a connection per request' : 'keep-alive'})`, async () => {
      const load = lab!.send<{ ok: number; failed: number; errors: Record<string, number> }>('starwars/tiefighter', { op: 'load', host: DEATHSTAR, port: 80, method: 'POST', path: '/v1/request-landing', durationMs: 4000, close });
      for (let i = 0; i < 3; i++) {
        await sleep(700);
        await proxies!.haproxy!.reload(out.haproxyConfig!, out.haproxyAcls);
      }
      const r = await load;
      console.log(`reload x3 during ${close ? 'close' : 'keep-alive'} load: ${r.ok} ok, ${r.failed} failed ${JSON.stringify(r.errors)}`);
      expect(r.ok).toBeGreaterThan(10);
      if (close) expect(r.failed, JSON.stringify(r.errors)).toBe(0);
      // HAProxy 2.6 closes idle keep-alive connections of old workers: a request racing that
      // close meets a reset before the proxy read it (safe to retry), at most once a reload.
      else expect(Object.keys(r.errors).filter((e) => e !== 'ECONNRESET').length + Math.max(0, r.failed - 3), JSON.stringify(r.errors)).toBe(0);
    });
  }

  it('a source ACL update a worker refuses falls back to a reload, which loads the ACL files', async () => {
    const socket = proxies!.haproxy!.socketPath;
    const before = currentWorkers(await masterCommand(socket, 'show proc'));
    const [file, sources] = Object.entries(out.haproxyAcls)[0]!;
    const why = await proxies!.updateHaproxyAcls(out, [{ file, add: ['not-an-address'], remove: [] }], 'add');
    expect(why).toMatch(/'not-an-address' is not a valid IPv4 or IPv6 address/);
    const after = currentWorkers(await masterCommand(socket, 'show proc'));
    expect(after).toHaveLength(1);
    expect(after).not.toEqual(before);
    expect(aclPatterns(await masterCommand(socket, `@1 show acl ${file}`))).toEqual(sources);
    expect((await lab!.http('starwars/tiefighter', DEATHSTAR, 80, 'POST', '/v1/request-landing')).status).toBe(200);
  });

  it('a crashed HAProxy is reported, its ports stay closed, and it is restarted', async () => {
    const before = reports.length;
    const pid = proxies!.haproxy!.masterPid;
    proxies!.haproxy!.kill();
    await sleep(50);
    // While down: dropped by nft (the proxy port is in @l7_down), never let through at L4.
    const during = await lab!.http('starwars/tiefighter', DEATHSTAR, 80, 'POST', '/v1/request-landing', 300);
    expect(during.status).not.toBe(200);
    expect(reports.slice(before).map((d) => d.code)).toContain('NI8307');
    expect(reports.slice(before).find((d) => d.code === 'NI8307')!.message).toMatch(/haproxy on node "lab-node" is down/);
    for (let i = 0; i < 100 && proxies!.haproxy!.state !== 'up'; i++) await sleep(100);
    expect(proxies!.haproxy!.state).toBe('up');
    expect(proxies!.haproxy!.masterPid).not.toBe(pid);
    await sleep(100);
    expect(proxies!.closedPorts()).toEqual([]);
    expect((await lab!.http('starwars/tiefighter', DEATHSTAR, 80, 'POST', '/v1/request-landing')).status).toBe(200);
  });

  it('a crashed dnsmasq is reported and restarted; DNS is closed meanwhile', async () => {
    const [dns] = [...proxies!.dnsmasq.values()];
    const before = reports.length;
    dns!.proxy.kill();
    await sleep(50);
    expect(reports.slice(before).map((d) => d.message).join('\n')).toMatch(/dnsmasq dns_\w+ on node "lab-node" is down/);
    for (let i = 0; i < 100 && dns!.proxy.state !== 'up'; i++) await sleep(100);
    expect(dns!.proxy.state).toBe('up');
    for (let i = 0; i < 50 && proxies!.closedPorts().length > 0; i++) await sleep(100);
    // A resolver retries a query that timed out; so does this client (the first answer after
    // a restart waits for the upstream, which is slow on a busy machine).
    let answer = await lab!.dns('default/test-app', DNS_POD, 'my-remote-service.com');
    for (let i = 0; i < 4 && 'error' in answer; i++) answer = await lab!.dns('default/test-app', DNS_POD, 'my-remote-service.com');
    expect(answer).toEqual({ rcode: 0, addresses: [REMOTE] });
  });

  it('a missing HAProxy binary is reported with its Debian package, and the L7 ports stay closed', async () => {
    const missing: Diagnostic[] = [];
    const other = new NodeL7Proxies({ node: 'lab-node', dir: `${lab!.dir}/missing`, netns: lab!.nodeNs, haproxyBin: '/nonexistent/haproxy', report: (d) => missing.push(d) });
    await proxies!.stop();
    await expect(other.apply(out)).rejects.toThrow(/Debian package haproxy/);
    expect(missing.map((d) => d.code)).toEqual(['NI8307']);
    expect(missing[0]!.help).toContain('haproxy');
    expect(other.closedPorts()).toEqual(expect.arrayContaining(out.plan.http.map((t) => t.proxyPort)));
    const r = await lab!.http('starwars/tiefighter', DEATHSTAR, 80, 'POST', '/v1/request-landing', 700);
    expect(r.status).toBeUndefined();
    await other.stop();
  });
});
