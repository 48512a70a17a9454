/**
 * Node lab, the agent with L7 rules: `NodeAgent.apply` runs HAProxy behind the L7 table,
 * and a re-apply without the HTTP rule stops routing through it. Needs root, nft, haproxy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { NodeAgent } from '../../src/node/index.js';
import { compileTexts } from '../../src/sources/index.js';
import type { Ir } from '../../src/ir/types.js';
import { requireTools } from '../lab/netns.js';
import { L7Lab, NODE_IP, type LabPodSpec } from '../l7/lab.js';

const DEATHSTAR = '10.123.1.1';
const TIEFIGHTER = '10.123.1.2';
const PODS: LabPodSpec[] = [
  { namespace: 'starwars', name: 'deathstar', ip: DEATHSTAR, labels: { org: 'empire', class: 'deathstar' }, serve: ['http=80'] },
  { namespace: 'starwars', name: 'tiefighter', ip: TIEFIGHTER, labels: { org: 'empire', class: 'tiefighter' } },
];
const HTTP_INTENTS = readFileSync(new URL('../../examples/08-l7-http/dsl/http.intent', import.meta.url), 'utf8');
// The same policy with the HTTP clause dropped: empire may use port 80 at L4.
const L4_INTENTS = HTTP_INTENTS.replace(/ http \{[^}]*\}/, '');

function compile(text: string): Ir {
  const { ir, diagnostics } = compileTexts([{ path: 'http.intent', text }]);
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
