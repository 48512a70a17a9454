// Generated benchmark corpus: N tenants, 10 rules and 2 fixed IPs per tenant, as DSL files
// (one per tenant, like a repository with one file per team), plus a matching inventory.
// `varied` gives every tenant its own layout (6-14 rules, 1-3 ports per rule, optional
// `log`, 1-3 selector terms; 10 rules per tenant on average), as hand-written repositories
// have: few statements then share a shape, so the parser's derivation cache rarely helps.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const APPS = ['web', 'api', 'db', 'cache', 'batch'];

/** Deterministic pseudo-random integers in [0, n) for tenant i. */
function dice(i) {
  let x = (i + 1) * 2654435761;
  return (n) => {
    x = (x ^ (x >>> 13)) * 1274126177;
    x ^= x >>> 16;
    return (x >>> 0) % n;
  };
}

function tenantFile(i, varied) {
  const t = `t${i}`;
  const roll = dice(i);
  const net = `10.${100 + (i >> 8)}.${i & 255}`;
  const lines = [
    `# tenant ${t}: generated`,
    `tenant ${t} {`,
    `  namespaces ${t}-a, ${t}-b`,
    `  isolation ${i % 2 ? 'strict' : 'default'}`,
    `  pool ${net}.0/24`,
    `  cap ingress 1G egress 1G`,
    `}`,
    '',
  ];
  const extraTerms = ['', ', track != canary', ', track != canary, !legacy'];
  for (const app of APPS) {
    const terms = varied ? extraTerms[roll(3)] : '';
    lines.push(`group ${t}-${app} {`, `  pods app = ${app}, tier in (gold, silver)${terms} in namespace ${t}-a, ${t}-b`, `}`, '');
  }
  lines.push(`group ${t}-office {`, `  cidr 172.${16 + (i % 16)}.0.0/16 except 172.${16 + (i % 16)}.${i & 255}.0/24`, `}`, '');
  // 10 rules: application-tier allows between the tenant's apps, a deny, a baseline rule.
  lines.push(`policy ${t}-app tier application priority ${100 + (i % 50)} {`);
  const allows = varied ? 4 + roll(9) : 8;
  for (let r = 0; r < allows; r++) {
    const from = `${t}-${APPS[r % 5]}`;
    const to = `${t}-${APPS[(r + 1) % 5]}`;
    const ports = [`tcp/${8000 + r}`, `tcp/${9000 + r}-${9010 + r}`, `udp/${5000 + r}`].slice(0, varied ? 1 + roll(3) : 2);
    lines.push(`  allow ${from} -> ${to} on ${ports.join(', ')}${varied && roll(4) === 0 ? ' log' : ''}`);
  }
  lines.push(`  allow ${t}-office -> ${t}-web on tcp/443 log`);
  lines.push(`}`, '', `policy ${t}-baseline tier baseline {`, `  deny any -> ${t}-db`, `}`, '');
  lines.push(`fixed-ip ${t}-a/legacy-0 ${net}.5`, `fixed-ip ${t}-a/legacy-1 ${net}.6`, '');
  return lines.join('\n');
}

/** Writes the corpus for `tenants` tenants into dir; returns the number of DSL lines. */
export function writeCorpus(dir, tenants, { varied = false } = {}) {
  mkdirSync(dir, { recursive: true });
  let lines = 0;
  for (let i = 0; i < tenants; i++) {
    const text = tenantFile(i, varied);
    lines += text.split('\n').length;
    writeFileSync(join(dir, `t${String(i).padStart(5, '0')}.intent`), text);
  }
  return lines;
}

/** A kubectl-style JSON List: `pods` pods spread over the corpus tenants' namespaces and `nodes` nodes. */
export function inventoryJson(tenants, pods, nodes) {
  const items = [];
  for (let n = 0; n < nodes; n++) {
    items.push({ apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${n}`, labels: { 'kubernetes.io/hostname': `node-${n}` } }, spec: { podCIDR: `10.${200 + (n >> 8)}.${n & 255}.0/24` }, status: { addresses: [{ type: 'InternalIP', address: `192.168.${n >> 8}.${(n & 255) + 1}` }] } });
  }
  for (let i = 0; i < tenants; i++) {
    for (const s of ['a', 'b']) items.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `t${i}-${s}`, labels: { 'kubernetes.io/metadata.name': `t${i}-${s}` } } });
  }
  for (let p = 0; p < pods; p++) {
    const t = p % tenants;
    const ns = `t${t}-${p % 2 ? 'a' : 'b'}`;
    const ip = `10.${(p >> 16) & 63}.${(p >> 8) & 255}.${p & 255}`;
    items.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `pod-${p}`, namespace: ns, uid: `uid-${p}`, labels: { app: APPS[p % 5], tier: p % 3 ? 'gold' : 'silver' } },
      spec: { nodeName: `node-${p % nodes}`, containers: [{ name: 'main', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }] },
      status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
    });
  }
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}
