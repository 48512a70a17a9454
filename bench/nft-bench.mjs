// nftables back end at scale: a generated cluster (2000 namespaces, 50 nodes, up to 100k
// pods, 10k intent rules, 2000 NetworkPolicies, 20 strict tenants) compiled for one node.
// Measures compile time and RSS, script bytes and element counts, `nft -f` time in a
// scratch network namespace, and incremental updates: 100 pods replaced at once, and a single
// pod added and deleted end to end (render of the update + `nft -f` of it, medians of --repeat).
//
//   npx tsc -p tsconfig.json && node --expose-gc bench/nft-bench.mjs [--pods 10000,50000,100000] [--repeat 15] [--no-apply] [--write]
//
// --write replaces bench/RESULTS-nft.md. Needs root + nft (Debian: nftables) unless --no-apply.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { NodeRulesetState, renderNodeRuleset, renderNodeUpdate } from '../dist/src/backends/nftables/index.js';
import { NftSession } from '../dist/src/backends/nftables/session.js';
import { IR_VERSION } from '../dist/src/ir/types.js';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const POD_COUNTS = opt('pods', '10000,50000,100000').split(',').map(Number);
const APPLY = !args.includes('--no-apply');
const REPEAT = Number(opt('repeat', '15'));
const NAMESPACES = 2000;
const NODES = 50;
const RULES = 10000;
const GROUPS = 1000;
const TENANTS = 20;

/** Deterministic PRNG (mulberry32): the same cluster every run. */
function prng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const sel = (labels) => Object.entries(labels).map(([key, v]) => ({ key, op: 'In', values: [v] }));
const ipOf = (i) => `10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

function makeInventory(pods) {
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => ({ name: `ns-${i}`, labels: { 'kubernetes.io/metadata.name': `ns-${i}`, team: `team-${i % 100}`, env: i % 3 ? 'prod' : 'dev' } }));
  const nodes = Array.from({ length: NODES }, (_, i) => ({ name: `node-${i}`, labels: {}, addresses: [`192.168.${i >> 8}.${(i & 255) + 1}`], podCidrs: [] }));
  const list = [];
  for (let i = 0; i < pods; i++) {
    const ns = i % NAMESPACES;
    list.push({
      namespace: `ns-${ns}`,
      name: `pod-${i}`,
      uid: `u${i}`,
      labels: { app: `app-${(i >> 11) % 10}`, tier: Math.floor(i / NAMESPACES) % 2 ? 'web' : 'db' },
      annotations: {},
      nodeName: `node-${i % NODES}`,
      ips: [ipOf(i)],
      ports: [{ name: 'http', port: 8080 + (i % 3), protocol: 'tcp' }],
      networks: [],
      hostNetwork: false,
    });
  }
  return { namespaces, pods: list, nodes, services: [] };
}

function makeIr() {
  const rnd = prng(42);
  const pick = (n) => Math.floor(rnd() * n);
  const groups = [];
  for (let k = 0; k < GROUPS; k++) {
    const members =
      k % 4 === 3
        ? [{ kind: 'cidr', cidr: `10.200.${k & 255}.0/24`, except: [`10.200.${k & 255}.128/25`] }]
        : k % 4 === 2
          ? [{ kind: 'pods', scope: { kind: 'names', names: [`ns-${pick(NAMESPACES)}`] }, selector: sel({ app: `app-${pick(10)}` }) }]
          : [{ kind: 'pods', scope: { kind: 'selector', selector: sel({ team: `team-${pick(100)}` }) }, selector: sel({ app: `app-${pick(10)}`, tier: k % 2 ? 'web' : 'db' }) }];
    groups.push({ id: `group:g${k}`, name: `g${k}`, members });
  }
  const tenants = [];
  const rules = [];
  for (let t = 0; t < TENANTS; t++) {
    const names = Array.from({ length: 100 }, (_, j) => `ns-${t * 100 + j}`);
    tenants.push({ id: `tenant:t${t}`, name: `t${t}`, namespaces: { kind: 'names', names }, isolation: 'strict', pools: [], networks: [], allowHostAccess: false });
    groups.push({ id: `group:~tenant-t${t}`, name: `~tenant-t${t}`, members: [{ kind: 'pods', scope: { kind: 'tenant', tenant: `t${t}` }, selector: [] }] });
    groups.push({ id: `group:~outside-t${t}`, name: `~outside-t${t}`, members: [{ kind: 'pods', scope: { kind: 'notTenant', tenant: `t${t}` }, selector: [] }] });
    for (const [index, from, to] of [[0, `group:~outside-t${t}`, `group:~tenant-t${t}`], [1, `group:~tenant-t${t}`, `group:~outside-t${t}`]]) {
      rules.push({ id: `rule:~isolation-t${t}/${index}`, policy: `~isolation-t${t}`, tier: 'admin', priority: 1000, index, action: 'deny', from: [from], to: [to], ports: [], log: false, origin: 'tenant-isolation' });
    }
  }
  const tiers = ['admin', 'tenant', 'application', 'application', 'application', 'baseline'];
  for (let r = 0; r < RULES; r++) {
    const tier = tiers[r % tiers.length];
    const action = tier === 'admin' && r % 5 === 0 ? 'pass' : r % 7 === 0 ? 'deny' : r % 11 === 0 ? 'reject' : 'allow';
    const ports = r % 13 === 0 ? [{ protocol: 'tcp', name: 'http' }] : r % 3 === 0 ? [] : [{ protocol: 'tcp', port: 1000 + (r % 500) }, { protocol: 'udp', port: 2000 + (r % 100), endPort: 2010 + (r % 100) }];
    rules.push({ id: `rule:p${r}/0`, policy: `p${r}`, tier, priority: 100 + (r % 50), index: 0, action, from: [`group:g${pick(GROUPS)}`], to: [`group:g${pick(GROUPS)}`], ports, log: r % 17 === 0, origin: 'intent' });
  }
  const order = { admin: 0, tenant: 1, application: 2, baseline: 3 };
  rules.sort((a, b) => order[a.tier] - order[b.tier] || a.priority - b.priority || a.policy.localeCompare(b.policy) || a.index - b.index);
  const networkPolicies = [];
  for (let i = 0; i < NAMESPACES; i++) {
    networkPolicies.push({
      id: `np:ns-${i}/web`,
      namespace: `ns-${i}`,
      name: 'web',
      podSelector: sel({ tier: 'web' }),
      policyTypes: ['Ingress'],
      ingress: [{ peers: [{ kind: 'pods', podSelector: sel({ tier: 'db' }) }, { kind: 'ipBlock', cidr: '10.0.0.0/8', except: ['10.64.0.0/10'] }], ports: [{ protocol: 'tcp', port: 8080 }, { protocol: 'tcp', name: 'http' }] }],
      egress: [],
    });
  }
  return { version: IR_VERSION, clusters: [], tenants, groups, rules, networkPolicies, pools: [], fixedIps: [], egressGateways: [], rateLimits: [], sources: {} };
}

const gc = globalThis.gc ?? (() => {});
const ms = (t0) => Math.round(performance.now() - t0);
const mb = (b) => Math.round(b / 1048576);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Milliseconds (fractional) that `nft -f` of the script takes in the namespace, process start included. */
function nftExact(netns, script) {
  const t0 = performance.now();
  const r = spawnSync('ip', ['netns', 'exec', netns, 'nft', '-f', '-'], { input: script, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`nft -f failed: ${r.stderr.slice(0, 2000)}`);
  return performance.now() - t0;
}
const nft = (netns, script) => Math.round(nftExact(netns, script));

/**
 * One pod on node-0 added, then deleted again, REPEAT times: each step renders the update from
 * the state the last one left (as the agent keeps it) and applies it with `apply` (resolves to
 * its milliseconds). Medians, in ms; `state`: what the last step left, for the next caller.
 */
async function singlePodChurn(ir, inventory, state, apply) {
  const steps = { add: [], delete: [] };
  const model = inventory.pods.find((p) => p.nodeName === 'node-0');
  let current = inventory;
  for (let k = 0; k < REPEAT; k++) {
    const pod = { ...model, name: `${model.name}-single-${k}`, uid: `${model.uid}-single-${k}`, ips: [`10.251.${k >> 8}.${k & 255}`] };
    for (const what of ['add', 'delete']) {
      const next = what === 'add' ? { ...current, pods: [...current.pods, pod] } : { ...current, pods: current.pods.slice(0, -1) };
      const t0 = performance.now();
      const update = renderNodeUpdate(current, next, ir, 'node-0', state);
      const renderMs = performance.now() - t0;
      if (update.kind !== 'elements') throw new Error(`single pod ${what}: ${update.kind} update`);
      const nftMs = await apply(update.script);
      steps[what].push({ renderMs, nftMs, totalMs: renderMs + nftMs, bytes: Buffer.byteLength(update.script) });
      state = update.state;
      current = next;
    }
  }
  const summary = (xs) => ({ renderMs: median(xs.map((x) => x.renderMs)), nftMs: median(xs.map((x) => x.nftMs)), totalMs: median(xs.map((x) => x.totalMs)), maxTotalMs: Math.max(...xs.map((x) => x.totalMs)), bytes: median(xs.map((x) => x.bytes)) });
  return { add: summary(steps.add), delete: summary(steps.delete), state };
}

/** Applies through the agent's long-lived `nft -i` session; resolves to milliseconds. */
function sessionApply(session) {
  return async (script) => {
    const t0 = performance.now();
    const r = await session.run(script);
    if (!r.ok) throw new Error(`nft session: ${r.stderr.slice(0, 2000)}`);
    return performance.now() - t0;
  };
}

/**
 * The floor under any element update on this machine: `nft -f` adding, then deleting, one
 * element of a table holding one empty hash set (process starts and the kernel's commit, no
 * ruleset to speak of). Medians of REPEAT, in ms.
 */
function nftFloor() {
  const netns = `nit-${process.pid}-${randomBytes(3).toString('hex')}-floor`;
  execFileSync('ip', ['netns', 'add', netns]);
  try {
    nftExact(netns, 'table inet floor {\n\tset s {\n\t\ttype ipv4_addr\n\t}\n}\n');
    const add = [];
    const del = [];
    for (let k = 0; k < REPEAT; k++) {
      add.push(nftExact(netns, `add element inet floor s { 10.251.0.${k} }\n`));
      del.push(nftExact(netns, `delete element inet floor s { 10.251.0.${k} }\n`));
    }
    return { addMs: median(add), deleteMs: median(del) };
  } finally {
    execFileSync('ip', ['netns', 'del', netns]);
  }
}

const ir = makeIr();
const floor = APPLY ? nftFloor() : undefined;
if (floor) console.log(JSON.stringify({ nftFloor: floor }));
const rows = [];
for (const pods of POD_COUNTS) {
  const inventory = makeInventory(pods);
  gc();
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const { script, diagnostics } = renderNodeRuleset(ir, inventory, 'node-0');
  const compileMs = ms(t0);
  const rssPeak = process.memoryUsage().rss;
  if (diagnostics.some((d) => d.severity === 'error')) throw new Error(diagnostics.map((d) => d.message).join('\n'));
  // What the agent keeps after a full apply: the model and what incremental updates need.
  const t1 = performance.now();
  let state = NodeRulesetState.build(ir, inventory, 'node-0');
  const stateMs = ms(t1);
  const { ruleset } = state;
  const sets = [...ruleset.sets.values()];
  const chains = [...ruleset.chains.values()];
  const row = {
    pods,
    localPods: inventory.pods.filter((p) => p.nodeName === 'node-0').length,
    compileMs,
    stateMs,
    rssMb: mb(rssPeak),
    rssDeltaMb: mb(rssPeak - rss0),
    bytes: Buffer.byteLength(script),
    sets: sets.filter((s) => s.kind === 'set').length,
    maps: sets.filter((s) => s.kind === 'map').length,
    elements: sets.reduce((n, s) => n + s.elements.length, 0),
    chains: chains.length,
    rules: chains.reduce((n, c) => n + c.rules.length, 0),
  };
  if (APPLY) {
    const netns = `nit-${process.pid}-${randomBytes(3).toString('hex')}-bench`;
    execFileSync('ip', ['netns', 'add', netns]);
    try {
      row.applyMs = nft(netns, script);
      row.reapplyMs = nft(netns, script);
      // Churn on node-0: 100 pods replaced by 100 new ones (same labels, new names and IPs).
      const next = { ...inventory, pods: inventory.pods.filter((p, i) => !(p.nodeName === 'node-0' && i < 100 * NODES)) };
      for (let k = 0; k < 100; k++) {
        const old = inventory.pods[k * NODES];
        next.pods.push({ ...old, name: `${old.name}-new`, uid: `${old.uid}-new`, ips: [`10.250.${k >> 8}.${k & 255}`] });
      }
      // The agent keeps the state it applied last: the update comes from the changed pods alone.
      const t2 = performance.now();
      const update = renderNodeUpdate(inventory, next, ir, 'node-0', state);
      row.updateRenderMs = ms(t2);
      row.updateKind = update.kind;
      row.updateBytes = Buffer.byteLength(update.script);
      row.updateApplyMs = nft(netns, update.script);
      state = update.state;
      const { state: afterSingle, ...single } = await singlePodChurn(ir, next, state, async (script) => nftExact(netns, script));
      row.single = single;
      const session = new NftSession({ netns });
      try {
        const { state: _, ...viaSession } = await singlePodChurn(ir, next, afterSingle, sessionApply(session));
        row.singleSession = viaSession;
      } finally {
        session.close();
      }
    } finally {
      execFileSync('ip', ['netns', 'del', netns]);
    }
  }
  rows.push(row);
  console.log(JSON.stringify(row));
}

if (args.includes('--write')) {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const nftVersion = APPLY ? execFileSync('nft', ['--version']).toString().trim() : 'not applied';
  const table = (header, lines) => [header, `|${header.split('|').slice(1, -1).map(() => '---').join('|')}|`, ...lines].join('\n');
  const f1 = (x) => (x === undefined ? '-' : x.toFixed(1));
  const main = table(
    '| pods (cluster) | pods on node | compile ms | state build ms | RSS MB (Δ) | script bytes | sets | maps | elements | chains | rules | nft -f ms | re-apply ms | churn render ms | churn kind | churn bytes | churn nft -f ms |',
    rows.map(
      (r) =>
        `| ${r.pods} | ${r.localPods} | ${r.compileMs} | ${r.stateMs} | ${r.rssMb} (${r.rssDeltaMb}) | ${r.bytes} | ${r.sets} | ${r.maps} | ${r.elements} | ${r.chains} | ${r.rules} | ${r.applyMs ?? '-'} | ${r.reapplyMs ?? '-'} | ${r.updateRenderMs ?? '-'} | ${r.updateKind ?? '-'} | ${r.updateBytes ?? '-'} | ${r.updateApplyMs ?? '-'} |`,
    ),
  );
  const single = table(
    '| pods (cluster) | step | applied with | render ms | apply ms | end to end ms (median) | slowest of the run ms | update bytes |',
    rows.flatMap((r) =>
      [['single', '`nft -f` per update'], ['singleSession', 'the agent\'s `nft -i` session']].flatMap(([key, how]) =>
        r[key] ? ['add', 'delete'].map((what) => `| ${r.pods} | ${what} | ${how} | ${f1(r[key][what].renderMs)} | ${f1(r[key][what].nftMs)} | **${f1(r[key][what].totalMs)}** | ${f1(r[key][what].maxTotalMs)} | ${r[key][what].bytes} |`) : [],
      ),
    ),
  );
  writeFileSync(
    new URL('./RESULTS-nft.md', import.meta.url),
    `# nftables back end: benchmark

Reproduce: \`npx tsc -p tsconfig.json && node --expose-gc bench/nft-bench.mjs --pods ${POD_COUNTS.join(',')} --repeat ${REPEAT} --write\` (root, nft).

Cluster: ${NAMESPACES} namespaces, ${NODES} nodes, ${GROUPS + 2 * TENANTS} groups, ${RULES + 2 * TENANTS} intent rules (${TENANTS} strict tenants
of 100 namespaces with their isolation rules), ${NAMESPACES} NetworkPolicies (named ports, ipBlock except).
Compiled for \`node-0\` (pods spread evenly over the nodes). Compile = \`renderNodeRuleset\` (resolve + build + render),
RSS = process RSS after it (Δ from before). State build = \`NodeRulesetState.build\`, the full build the agent keeps for
incremental updates (the model plus an index of pods by address). nft -f = applying the script in a fresh network namespace;
re-apply = the same script again (atomic replace of the table).

Machine: ${os.cpus().length} × ${cpu}, shared (load average ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} when the run ended: times are upper bounds); Node ${process.version}; ${nftVersion}.

${main}

## Incremental updates

Churn (above) = 100 pods of node-0 replaced by 100 new ones at once: \`renderNodeUpdate\` given the state kept from the
last apply, then \`nft -f\` of its element update. Below, one pod of node-0 (a copy of an existing pod's labels and ports, new
name and IP) is added, then deleted again, ${REPEAT} times each, with the whole ruleset loaded: render = \`renderNodeUpdate\`
(the pod diff over all pods by identity, then the elements of the changed addresses only); apply = \`ip netns exec NS nft -f -\`
of the update (two process starts included), or the same transaction through one long-lived \`nft -i\` process, as the node
agent sends element updates (\`src/backends/nftables/session.ts\`). End to end = render + apply of the same step; medians of
the ${REPEAT} steps.

${single}
${
  floor
    ? `
Floor in the same run: \`nft -f\` of one element added to (${f1(floor.addMs)} ms), then deleted from (${f1(floor.deleteMs)} ms), a table
holding nothing but one hash set, medians of ${REPEAT}. After a transaction that deletes elements, closing nft's netlink
socket waits until the kernel has released them (an RCU grace period; \`strace -T nft -f\` shows the difference in
\`close(3)\`), so every \`nft -f\` that deletes costs that much more than one that only adds, whatever the ruleset.
`
    : ''
}`,
  );
}
