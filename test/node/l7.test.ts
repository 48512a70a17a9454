/**
 * Node lab, the agent with L7 rules: `NodeAgent.apply` runs HAProxy behind the L7 table,
 * a re-apply without the HTTP rule stops routing through it, and pod churn under DNS and
 * FQDN rules changes the L7 table by its elements, keeping what dnsmasq learnt; HTTP
 * clients churning change HAProxy's source ACLs at run time, without a reload. Needs root,
 * nft, haproxy, dnsmasq.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { NodeAgent } from '../../src/node/index.js';
import { compileTexts } from '../../src/sources/index.js';
import type { Ir } from '../../src/ir/types.js';
import { fqdnSetName, renderNodeL7 } from '../../src/backends/l7/index.js';
import { aclPatterns, currentWorkers, masterCommand } from '../../src/node/haproxy.js';
import { requireTools } from '../lab/netns.js';
import { DEATHSTAR, DNS_POD, EVIL, FOOBAR, L7Lab, LAB_INTENTS, LAB_PODS, NODE_IP, REMOTE, type LabPodSpec } from '../l7/lab.js';

const TIEFIGHTER = '10.123.1.2';
const PODS: LabPodSpec[] = [
  { namespace: 'starwars', name: 'deathstar', ip: DEATHSTAR, labels: { org: 'empire', class: 'deathstar' }, serve: ['http=80'] },
  { namespace: 'starwars', name: 'tiefighter', ip: TIEFIGHTER, labels: { org: 'empire', class: 'tiefighter' } },
];
const HTTP_INTENTS = readFileSync(new URL('../../examples/08-l7-http/dsl/http.intent', import.meta.url), 'utf8');
// The same policy with the HTTP clause dropped: empire may use port 80 at L4.
const L4_INTENTS = HTTP_INTENTS.replace(/ http \{[^}]*\}/, '');

function compile(text: string, path = 'http.intent'): Ir {
  const { ir, diagnostics } = compileTexts([{ path, text }]);
  expect(diagnostics).toEqual([]);
  return ir!;
}

describe('node lab: the agent runs the L7 proxies', () => {
  let lab: L7Lab | undefined;
  let agent: NodeAgent | undefined;

  beforeAll(async () => {
    requireTools({ nft: 'nftables', ip: 'iproute2', tc: 'iproute2', haproxy: 'haproxy' });
    lab = await L7Lab.create(PODS, ['10.123.200.2'], []); // the external host needs an address
    agent = new NodeAgent({ node: 'lab-node', netns: lab.nodeNs, stateDir: lab.dir });
  });
  afterAll(async () => {
    await agent?.stopProxies();
    await lab?.destroy();
  });

  it('HTTP rules: POST /v1/request-landing passes the proxy, GET is answered 403 by it', async () => {
    const r = await agent!.apply(compile(HTTP_INTENTS), lab!.inventory());
    expect(r.ok, JSON.stringify(r.diagnostics)).toBe(true);
    expect(r.proxies).toBe('applied');
    // The pod sees the proxy (node address), not the client: the request took the L7 path.
    expect(await lab!.http('starwars/tiefighter', DEATHSTAR, 80, 'POST', '/v1/request-landing')).toEqual({ status: 200, body: `ok POST /v1/request-landing from ${NODE_IP}` });
    const get = await lab!.http('starwars/tiefighter', DEATHSTAR, 80, 'GET', '/v1/request-landing');
    expect(get.status).toBe(403);
    expect(get.body).toContain('rule deathstar-landing/0 (http.intent:');
    // The proxy coming up opened its ports in @l7_down: not drift, and the table is left alone.
    const drift = await agent!.checkDrift();
    expect(drift.repaired).toEqual([]);
    expect(drift.report).toMatchObject({ ok: true, nft: 'none', proxies: 'none' });
  });

  it('a re-apply without the HTTP rule stops the proxy and its steering: requests go straight to the pod', async () => {
    const r = await agent!.apply(compile(L4_INTENTS), lab!.inventory());
    expect(r.ok, JSON.stringify(r.diagnostics)).toBe(true);
    expect(r.proxies).toBe('stopped');
    expect(agent!.runsProxies).toBe(false);
    expect(lab!.nft(['list', 'table', 'inet', 'netintent'])).not.toContain('l7_steer');
    expect(await lab!.http('starwars/tiefighter', DEATHSTAR, 80, 'GET', '/v1/request-landing')).toEqual({ status: 200, body: `ok GET /v1/request-landing from ${TIEFIGHTER}` });
  });
});

describe('node lab: pod churn under DNS and FQDN rules', () => {
  const NEW_POD: LabPodSpec = { namespace: 'default', name: 'test-app-2', ip: '10.123.3.2', labels: { app: 'test-app' } };
  // An HTTP client like the tie fighter: the same rules, so the same ACLs.
  const NEW_CLIENT: LabPodSpec = { namespace: 'starwars', name: 'tiefighter-2', ip: '10.123.1.5', labels: { org: 'empire', class: 'tiefighter' } };
  let lab: L7Lab | undefined;
  let agent: NodeAgent | undefined;

  beforeAll(async () => {
    requireTools({ nft: 'nftables', ip: 'iproute2', tc: 'iproute2', haproxy: 'haproxy', dnsmasq: 'dnsmasq-base' });
    // The new pod is wired from the start, as its CNI ADD would have it; the inventory gains it later.
    lab = await L7Lab.create([...LAB_PODS, NEW_POD, NEW_CLIENT], [REMOTE, EVIL, FOOBAR], ['tcp=443']);
    agent = new NodeAgent({ node: 'lab-node', netns: lab.nodeNs, stateDir: lab.dir });
  });
  afterAll(async () => {
    await agent?.stopProxies();
    await lab?.destroy();
  });

  it('a new pod: the L7 table changes by its elements, the FQDN address learnt before stays, the pod is steered, the proxies are not reloaded', async () => {
    const ir = compile(LAB_INTENTS, 'lab.intent');
    const all = lab!.inventory();
    const withPod = { ...all, pods: all.pods.filter((p) => p.name !== NEW_CLIENT.name) };
    const withoutPod = { ...withPod, pods: withPod.pods.filter((p) => p.name !== NEW_POD.name) };
    expect(await agent!.apply(ir, withoutPod)).toMatchObject({ ok: true, nft: 'full', proxies: 'applied' });
    for (let i = 0; i < 50 && (await lab!.dns('kube-system/dns', DNS_POD, 'evil.com')).rcode !== 0; i++) await sleep(100);
    const set = fqdnSetName('*foobar.com', 4);
    const learnt = new RegExp(`${FOOBAR.replace(/\./g, '\\.')} expires`);
    expect((await lab!.dns('default/test-app', DNS_POD, 'api.foobar.com')).addresses).toEqual([FOOBAR]);
    expect(lab!.nft(['list', 'set', 'inet', 'netintent', set])).toMatch(learnt);
    // Not in the inventory yet: its DNS goes straight to the server, which knows evil.com.
    expect(await lab!.dns('default/test-app-2', DNS_POD, 'evil.com')).toEqual({ rcode: 0, addresses: [EVIL] });

    const r = await agent!.apply(ir, withPod);
    expect(r, JSON.stringify(r.diagnostics)).toMatchObject({ ok: true, nft: 'elements', proxies: 'none' });
    expect(lab!.nft(['list', 'set', 'inet', 'netintent', set])).toMatch(learnt);
    // The new pod reaches the address another pod resolved, and nothing its rules do not allow.
    expect((await lab!.tcp('default/test-app-2', FOOBAR, 443, 2000)).outcome).toBe('allow');
    expect((await lab!.tcp('default/test-app-2', EVIL, 443, 700)).outcome).toBe('deny');
    // Its DNS now goes to the node's dnsmasq, which refuses names the DNS rule does not allow.
    expect(await lab!.dns('default/test-app-2', DNS_POD, 'evil.com')).toEqual({ rcode: 5, addresses: [] });

    // The pod gone again: elements as well, and the kernel holds what the agent applied.
    expect(await agent!.apply(ir, withoutPod)).toMatchObject({ ok: true, nft: 'elements', proxies: 'none' });
    expect(lab!.nft(['list', 'set', 'inet', 'netintent', set])).toMatch(learnt);
    expect((await agent!.checkDrift()).repaired).toEqual([]);
  });

  it('a new HTTP client: HAProxy learns its address at run time (no reload), the FQDN address learnt before stays; gone again, HAProxy forgets it', async () => {
    const ir = compile(LAB_INTENTS, 'lab.intent');
    const withClient = lab!.inventory();
    const withoutClient = { ...withClient, pods: withClient.pods.filter((p) => p.name !== NEW_CLIENT.name) };
    expect(await agent!.apply(ir, withoutClient)).toMatchObject({ ok: true });
    for (let i = 0; i < 50 && (await lab!.dns('kube-system/dns', DNS_POD, 'evil.com')).rcode !== 0; i++) await sleep(100);
    const set = fqdnSetName('*foobar.com', 4);
    const learnt = new RegExp(`${FOOBAR.replace(/\./g, '\\.')} expires`);
    expect((await lab!.dns('default/test-app', DNS_POD, 'api.foobar.com')).addresses).toEqual([FOOBAR]);
    expect(lab!.nft(['list', 'set', 'inet', 'netintent', set])).toMatch(learnt);
    const socket = `${lab!.dir}/l7/master.sock`;
    const workers = async (): Promise<number[]> => currentWorkers(await masterCommand(socket, 'show proc'));
    const before = await workers();
    expect(before).toHaveLength(1);
    // The ACL of the tie fighter's group on port 80 (the POST rule), as the worker holds it.
    const file = Object.entries(renderNodeL7(ir, withClient, 'lab-node').haproxyAcls).find(([f, ips]) => f.includes('_80.') && ips.includes(NEW_CLIENT.ip))![0];
    const held = async (): Promise<string[]> => aclPatterns(await masterCommand(socket, `@1 show acl ${file}`));
    expect(await held()).not.toContain(NEW_CLIENT.ip);

    const added = await agent!.apply(ir, withClient);
    expect(added, JSON.stringify(added.diagnostics)).toMatchObject({ ok: true, nft: 'elements', proxies: 'updated' });
    console.log(`HTTP client added, ms: ${JSON.stringify(added.timings, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))}`);
    expect(await workers()).toEqual(before);
    expect(await held()).toContain(NEW_CLIENT.ip);
    expect(await lab!.http('starwars/tiefighter-2', DEATHSTAR, 80, 'POST', '/v1/request-landing')).toEqual({ status: 200, body: `ok POST /v1/request-landing from ${NODE_IP}` });
    const get = await lab!.http('starwars/tiefighter-2', DEATHSTAR, 80, 'GET', '/v1/request-landing');
    expect(get.status).toBe(403);
    expect(get.body).toContain('no HTTP match of rule deathstar-landing/0');
    expect(lab!.nft(['list', 'set', 'inet', 'netintent', set])).toMatch(learnt);
    // The file holds the list too, for a restart or a later reload.
    expect(readFileSync(`${lab!.dir}/l7/${file}`, 'utf8').split('\n')).toContain(NEW_CLIENT.ip);

    const removed = await agent!.apply(ir, withoutClient);
    expect(removed, JSON.stringify(removed.diagnostics)).toMatchObject({ ok: true, nft: 'elements', proxies: 'updated' });
    console.log(`HTTP client removed, ms: ${JSON.stringify(removed.timings, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))}`);
    expect(await workers()).toEqual(before);
    expect(await held()).not.toContain(NEW_CLIENT.ip);
    expect(readFileSync(`${lab!.dir}/l7/${file}`, 'utf8').split('\n')).not.toContain(NEW_CLIENT.ip);
    // Its keep-alive connection to the proxy outlives the steering (conntrack): HAProxy refuses it now.
    const kept = await lab!.http('starwars/tiefighter-2', DEATHSTAR, 80, 'POST', '/v1/request-landing');
    expect(kept.status).toBe(403);
    expect(kept.body).toContain('source not admitted by any HTTP rule');
    // A new connection is neither steered nor allowed at L4.
    expect((await lab!.tcp('starwars/tiefighter-2', DEATHSTAR, 80, 700)).outcome).toBe('deny');
    expect(lab!.nft(['list', 'set', 'inet', 'netintent', set])).toMatch(learnt);
    expect((await agent!.checkDrift()).repaired).toEqual([]);
  });
});
