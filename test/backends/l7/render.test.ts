/** L7 back end, pure: Kafka refused on the node, HAProxy/dnsmasq/nft rendering, PCRE2 and pattern checks. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileTexts } from '../../../src/sources/index.js';
import { loadInventory } from '../../../src/inventory/index.js';
import { renderNodeRuleset } from '../../../src/backends/nftables/index.js';
import { applyNftScript } from '../../../src/backends/nftables/apply.js';
import { dnsPatternShape, pcreDifference, renderNodeL7 } from '../../../src/backends/l7/index.js';
import { requireTools } from '../../lab/netns.js';
import { e2eInventory, emptyIr, group, podsIn, rule, tcp } from '../../fixtures/ir.js';
import type { Ir } from '../../../src/ir/types.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const inventory = loadInventory('examples/inventory.yaml', readFileSync(`${root}examples/inventory.yaml`, 'utf8')).inventory;
const example = (dir: string, file: string): string => readFileSync(`${root}examples/${dir}/dsl/${file}`, 'utf8');

function compile(text: string, path = 'l7.intent') {
  const r = compileTexts([{ path, text }]);
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.ir!;
}

describe('nftables: Kafka clauses on a node', () => {
  const withoutL4Only = example('10-kafka', 'kafka.intent').replace('} l4-only', '}');

  it('are an error naming the rule, its span and both choices; never a silent downgrade', () => {
    const ir = compile(withoutL4Only, 'kafka.intent');
    const { diagnostics } = renderNodeRuleset(ir, inventory, 'node-1');
    const kafka = diagnostics.filter((d) => d.code === 'NI8301');
    expect(kafka).toHaveLength(1);
    expect(kafka[0]).toMatchObject({ severity: 'error', span: { file: 'kafka.intent', start: { line: 12 } } });
    expect(kafka[0]!.message).toContain('"kafka-produce/0"');
    expect(kafka[0]!.message).toContain('"nftables"');
    expect(kafka[0]!.help).toMatch(/drop the Kafka clause/);
    expect(kafka[0]!.help).toMatch(/`l4-only`.*NI4010/);
    // The L7 target refuses it as well: there is no Kafka proxy.
    expect(renderNodeL7(ir, inventory, 'node-1').diagnostics.map((d) => d.code)).toContain('NI8301');
  });

  it('with `l4-only` the port is enforced and check warns (NI4010)', () => {
    const r = compileTexts([{ path: 'kafka.intent', text: example('10-kafka', 'kafka.intent') }]);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['NI4010']);
    expect(renderNodeRuleset(r.ir!, inventory, 'node-1').diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });
});

describe('L7: HTTP rules to HAProxy', () => {
  const ir = compile(example('08-l7-http', 'http.intent'), 'http.intent');
  const out = renderNodeL7(ir, inventory, 'node-1');

  it('one frontend per destination pod and port, a src ACL per source group, anchored path regex, 403 naming the rule', () => {
    expect(out.diagnostics).toEqual([]);
    const cfg = out.haproxyConfig!;
    expect(cfg).toMatch(/^global\n {4}master-worker$/m);
    const t = out.plan.http;
    expect(t.map((x) => `${x.pod} ${x.podIp}:${x.port}`)).toEqual(['starwars/deathstar-1 10.244.1.50:80']);
    // Only empire pods are sources; the tie fighter (10.244.2.50) is one.
    expect(t[0]!.groups).toEqual([{ rules: ['rule:deathstar-landing/0'], sources: ['10.244.2.50'] }]);
    expect(cfg).toContain(`bind 10.0.0.11:${t[0]!.proxyPort}`);
    // The sources are a pattern file beside the configuration, not its text.
    expect(cfg).toMatch(/^ {4}default-path config$/m);
    expect(cfg).toMatch(/acl (from_\w+) src -f acl\/pod_10_244_1_50_80\.\1\.lst\n {4}http-request allow if \1 \{ method POST \} \{ path_reg '\^\(\?:\/v1\/request-landing\)\$' \}/);
    expect(cfg).not.toContain('10.244.2.50');
    expect(out.haproxyAcls).toEqual({ [`acl/pod_10_244_1_50_80.${/acl (from_\w+) src/.exec(cfg)![1]}.lst`]: ['10.244.2.50'] });
    expect(cfg).toContain("string 'netintent: request denied: no HTTP match of rule deathstar-landing/0 (http.intent:11)'");
    expect(cfg).toContain('server starwars_deathstar-1 10.244.1.50:80');
  });

  it('the node script DNATs exactly the steered sources to the proxy port and nowhere else', () => {
    const t = out.plan.http[0]!;
    expect(out.nftScript).toContain(`ip daddr 10.244.1.50 tcp dport 80 ip saddr @`);
    expect(out.nftScript).toContain(`dnat ip to 10.0.0.11:${t.proxyPort}`);
    expect(out.nftScript.match(/dnat ip to/g)).toHaveLength(1);
    // Other nodes carry no proxy.
    expect(renderNodeL7(ir, inventory, 'node-2').haproxyConfig).toBeUndefined();
  });

  it('rule sets of different source groups and ports stay apart', () => {
    const two = compile(
      `${example('08-l7-http', 'http.intent').replace(/policy deathstar-landing[\s\S]*$/, '')}
group tie { pods class = tiefighter in namespace starwars }
policy two-sets {
  allow empire -> deathstar on tcp/80 http { POST "/v1/request-landing" }
  allow tie -> deathstar on tcp/8080 http { GET "/status" host "deathstar.local" header "x-pilot" }
  deny any -> deathstar
}
`,
    );
    const r = renderNodeL7(two, inventory, 'node-1');
    expect(r.diagnostics).toEqual([]);
    expect(r.plan.http.map((x) => `${x.podIp}:${x.port} ${x.groups.map((g) => g.rules.join('+')).join(' ')}`)).toEqual(['10.244.1.50:80 rule:two-sets/0', '10.244.1.50:8080 rule:two-sets/1']);
    const [f80, f8080] = r.haproxyConfig!.split(/^frontend /m).slice(1);
    expect(f80).toContain('path_reg');
    expect(f80).not.toContain('/status');
    expect(f8080).toContain("{ method GET } { path_reg '^(?:/status)$' } { req.hdr(host),lower,regsub(:[0-9]+$,) -m str 'deathstar.local' } { req.hdr_cnt(x-pilot) gt 0 }");
    expect(r.plan.http[0]!.proxyPort).not.toBe(r.plan.http[1]!.proxyPort);
  });

  it('regexes PCRE2 would read differently are compile-time errors with the rule span', () => {
    const bad = compile(example('08-l7-http', 'http.intent').replace('"/v1/request-landing"', String.raw`"/v1/\\h+"`), 'http.intent');
    const d = renderNodeL7(bad, inventory, 'node-1').diagnostics;
    expect(d).toEqual([expect.objectContaining({ code: 'NI8302', severity: 'error', span: expect.objectContaining({ file: 'http.intent', start: expect.objectContaining({ line: 11 }) }) })]);
    expect(d[0]!.message).toContain('\\h');
    expect(renderNodeL7(bad, inventory, 'node-1').haproxyConfig).not.toContain('allow if');
  });

  it('PCRE2 differences', () => {
    for (const ok of ['/v1/request-landing', '^/api/v[0-9]+/.*$', '/a\\.b\\d\\w\\s', '(?<id>[a-z]+)/\\k<id>', '(?<=x)y', '[\\]]', '/x{2,3}']) expect(pcreDifference(ok), ok).toBeUndefined();
    for (const bad of ['/\\h', '\\Afoo', 'a\\z', '[^]', 'x[]', '\\12', '(?<=a+)b', '[[:alpha:]]', '\\u0041', '\\p{L}', '\\Qa\\E']) expect(pcreDifference(bad), bad).toBeDefined();
  });

  it('the rendered HAProxy configuration is valid (haproxy -c)', () => {
    requireTools({ haproxy: 'haproxy' });
    const dir = mkdtempSync(join(tmpdir(), 'nil-l7-'));
    try {
      const file = join(dir, 'haproxy.cfg');
      writeFileSync(file, out.haproxyConfig!.replace(/bind 10\.0\.0\.11:/g, 'bind 127.0.0.1:'));
      mkdirSync(join(dir, 'acl'));
      for (const [acl, patterns] of Object.entries(out.haproxyAcls)) writeFileSync(join(dir, acl), patterns.join('\n'));
      // Checked from elsewhere: the ACL files are found beside the configuration.
      expect(execFileSync('haproxy', ['-c', '-f', file], { encoding: 'utf8', cwd: tmpdir() })).toMatch(/valid/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('L7: DNS rules to dnsmasq, FQDN sets', () => {
  const ir = compile(example('09-dns-fqdn', 'fqdn.intent'), 'fqdn.intent');
  const out = renderNodeL7(ir, inventory, 'node-1');

  it('one dnsmasq per DNS rule, no default upstream, FQDN sets fed by nftset', () => {
    // nftset matches whole labels: Antrea's "*foobar.com" learns foobar.com and its subdomains only.
    expect(out.diagnostics.map((d) => `${d.code} ${d.span?.file}:${d.span?.start.line}`)).toEqual(['NI8308 fqdn.intent:23']);
    expect(out.dnsmasq).toHaveLength(1);
    const cfg = out.dnsmasq[0]!.config;
    expect(cfg).toContain('no-resolv\n');
    expect(cfg).toContain('server=/#/10.244.1.2\n');
    expect(cfg).toMatch(/^nftset=\/foobar\.com\/4#inet#netintent#fq_\w+_4,6#inet#netintent#fq_\w+_6$/m);
    expect(cfg).toMatch(/^nftset=\/my-remote-service\.com\/4#inet#netintent#fq_\w+_4,/m);
    // Answers are logged with TTLs capped, so the agent can restart the elements' timeouts (fqdn.ts).
    expect(cfg).toContain('\nmax-ttl=300\nlog-queries\n');
    // FQDN egress matches the DNS-fed sets, which expire.
    const set = out.plan.fqdnSets.get('my-remote-service.com')!;
    expect(out.nftScript).toMatch(new RegExp(`ip daddr @${set} tcp dport 443 accept`));
    expect(out.nftScript).toMatch(new RegExp(`set ${set} \\{\\n\\t\\ttype ipv4_addr\\n\\t\\tflags timeout\\n\\t\\ttimeout 330s`));
    // Only the app's DNS is steered: udp and tcp 53 to kube-dns.
    expect(out.nftScript).toMatch(/udp dport 53 dnat ip to 10\.0\.0\.11:\d+/);
    expect(out.nftScript).toMatch(/tcp dport 53 dnat ip to 10\.0\.0\.11:\d+/);
    // Without the L7 target, FQDN peers stay a warning of the nftables target.
    expect(renderNodeRuleset(ir, inventory, 'node-1').diagnostics.map((d) => d.code)).toContain('NI5020');
  });

  it('exact names forward the name only; subdomains answer NXDOMAIN', () => {
    const exact = compile(example('09-dns-fqdn', 'fqdn.intent').replace('pattern "*"', 'name "my-remote-service.com" pattern "*.cilium.io" pattern "*foobar.com"'), 'fqdn.intent');
    const r = renderNodeL7(exact, inventory, 'node-1');
    const cfg = r.dnsmasq[0]!.config;
    expect(cfg).toContain('server=/my-remote-service.com/10.244.1.2\naddress=/*.my-remote-service.com/\n');
    expect(cfg).toContain('server=/*.cilium.io/10.244.1.2\n');
    expect(cfg).toContain('server=/*foobar.com/10.244.1.2\n');
    expect(cfg).not.toContain('server=/#/');
    expect(r.diagnostics.map((d) => d.code).sort()).toEqual(['NI8305', 'NI8308']);
  });

  it('pattern shapes (Cilium and Antrea)', () => {
    expect(dnsPatternShape('*')).toEqual({ kind: 'all' });
    expect(dnsPatternShape('*.cilium.io')).toEqual({ kind: 'subdomains', domain: 'cilium.io' });
    expect(dnsPatternShape('*foobar.com')).toEqual({ kind: 'suffix', domain: 'foobar.com' });
    expect(dnsPatternShape('My-Remote-Service.com.')).toEqual({ kind: 'exact', domain: 'my-remote-service.com' });
    expect(dnsPatternShape('sub*.cilium.io').kind).toBe('unsupported');
    expect(dnsPatternShape('a.*.io').kind).toBe('unsupported');
  });
});

describe('L7: every scenario example renders a node script nft accepts', () => {
  const netns = `nil-${process.pid}-${randomBytes(3).toString('hex')}-chk`;
  beforeAll(() => {
    requireTools();
    execFileSync('ip', ['netns', 'add', netns]);
  });
  afterAll(() => {
    execFileSync('ip', ['netns', 'del', netns]);
  });
  for (const dir of ['08-l7-http', '09-dns-fqdn', '10-kafka']) {
    it(dir, async () => {
      const { ir } = compileTexts([{ path: `${dir}.intent`, text: readFileSync(`${root}examples/${dir}/dsl/${dir === '08-l7-http' ? 'http' : dir === '09-dns-fqdn' ? 'fqdn' : 'kafka'}.intent`, 'utf8') }]);
      for (const node of inventory.nodes) {
        const out = renderNodeL7(ir!, inventory, node.name);
        expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        const checked = await applyNftScript(out.nftScript, { netns, args: ['-c'] });
        expect(checked.stderr).toBe('');
      }
    });
  }
});

describe('L7: IR that no front end checked', () => {
  const base = (): Ir => {
    const ir = emptyIr();
    ir.groups.push(group('xa', [podsIn(['x'], { pod: 'a' })]), group('ya', [podsIn(['y'], { pod: 'a' })]), group('ext', [{ kind: 'cidr', cidr: '10.123.200.0/24', except: [] }]));
    return ir;
  };
  const httpRule = (from: string, match: Ir['rules'][number]['l7']): Ir['rules'][number] => ({ ...rule({ policy: 'web', action: 'allow', from: [from], to: ['group:xa'], ports: [tcp(80)] }), l7: match });
  const e2e = e2eInventory();

  it('header names and hosts HAProxy cannot hold are errors with the rule span (NI8303)', () => {
    const ir = base();
    ir.rules.push(httpRule('group:ya', { http: [{ method: 'GET', headers: [{ name: 'bad header', value: 'v' }] }, { host: 'a b', headers: [] }], kafka: [], dns: [] }));
    ir.sources['rule:web/0'] = [{ file: 'ir.json', line: 3, col: 1, endLine: 3, endCol: 9 }];
    const d = renderNodeL7(ir, e2e, 'n1').diagnostics;
    expect(d.map((x) => `${x.code} ${x.span?.file}:${x.span?.start.line}`)).toEqual(['NI8303 ir.json:3', 'NI8303 ir.json:3']);
    expect(d[0]!.message).toContain('"bad header"');
  });

  it('CIDR sources are steered by range unless an earlier rule decides the destination (NI8306)', () => {
    const ir = base();
    ir.rules.push(httpRule('group:ext', { http: [{ method: 'GET', headers: [] }], kafka: [], dns: [] }));
    const ok = renderNodeL7(ir, e2e, 'n1');
    expect(ok.diagnostics).toEqual([]);
    expect(ok.plan.http.find((t) => t.podIp === '10.123.1.1')!.groups).toEqual([{ rules: ['rule:web/0'], sources: ['10.123.200.0/24'] }]);
    expect(ok.nftScript).toMatch(/ip saddr != @l7_pods4 ip saddr @l7h_\w+_cidrs dnat ip to 10\.123\.0\.1:\d+/);
    const guarded = base();
    guarded.rules.push({ ...rule({ policy: 'guard', tier: 'admin', action: 'deny', from: ['group:ya'], to: ['group:xa'] }) }, httpRule('group:ext', { http: [{ method: 'GET', headers: [] }], kafka: [], dns: [] }));
    expect(renderNodeL7(guarded, e2e, 'n1').diagnostics.map((x) => x.code)).toEqual(['NI8306']);
  });

  it('IPv6 connections an HTTP rule decides are closed, not admitted at L4', () => {
    const ir = base();
    ir.rules.push(httpRule('group:ya', { http: [{ method: 'GET', headers: [] }], kafka: [], dns: [] }));
    const out = renderNodeL7(ir, e2e, 'n1');
    expect(out.plan.closed6).toEqual([{ podIp: 'fd00:123::1:1', port: 80, pod: 'x/a', sources: ['fd00:123::2:1'] }]);
    expect(out.nftScript).toMatch(/ip6 daddr fd00:123::1:1 tcp dport 80 ip6 saddr @l7c_\w+ drop/);
  });
});
