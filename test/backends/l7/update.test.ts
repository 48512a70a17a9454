/**
 * The L7 table's element updates against the full replace: random pod churn on a node with
 * HTTP, DNS and FQDN rules; whenever the update is element changes, applying its script to
 * the previous model gives exactly the model a full render of the new inventory holds, and
 * it never touches the sets filled at run time (@l7_down, the FQDN sets); HTTP clients
 * churning change only HAProxy's source ACL files, by exactly the difference diffHaproxyAcls gives.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { diffHaproxyAcls, renderL7ElementUpdate, renderNodeL7, type HaproxyAclFiles, type NodeL7Output } from '../../../src/backends/l7/index.js';
import { renderScript, type NftRuleset } from '../../../src/backends/nftables/index.js';
import { sortElements } from '../../../src/backends/nftables/model.js';
import { compileTexts } from '../../../src/sources/index.js';
import type { Inventory } from '../../../src/inventory/index.js';
import { applyChurn, churnArb, churnInventory } from '../../fixtures/churn.js';
import { pod } from '../../fixtures/ir.js';

const INTENTS = `
group web { pods pod = a in namespace x }
group clients { pods pod = b in namespace x }
group apps { pods pod = c in namespaces x, y, w }
group kube-dns { pods pod = dns in namespace y }
group example { fqdn "*.example.com" }

policy l7 {
  allow clients -> web on tcp/80 http { GET "/" }
  allow apps -> kube-dns on udp/53, tcp/53 dns { pattern "*.example.com" }
  allow apps -> example on tcp/443
  deny apps -> any
}
`;

function compile(text: string) {
  const { ir, diagnostics } = compileTexts([{ path: 'l7.intent', text }]);
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return ir!;
}

const ir = compile(INTENTS);
/** The churn cluster with a DNS server on the other node, so that DNS rules have an instance. */
const inventory: Inventory = (() => {
  const inv = churnInventory();
  return { ...inv, pods: [...inv.pods, pod({ ns: 'y', name: 'dns', ip: '10.123.2.53', labels: { pod: 'dns' }, node: 'n2' })] };
})();

/** What `ruleset` becomes under `script`, read from the script's text as nft reads it, not from the diff behind it. */
function applyElementScript(ruleset: NftRuleset, script: string): NftRuleset {
  const out = structuredClone(ruleset);
  for (const line of script.split('\n').filter((l) => l && !l.startsWith('#'))) {
    const m = /^(add|delete) element inet netintent (\S+) \{ (.*) \}$/.exec(line);
    if (!m) throw new Error(`not an element command: ${line}`);
    const set = out.sets.get(m[2]!)!;
    const elements = m[3]!.split(', ');
    if (m[1] === 'add') set.elements = sortElements([...set.elements, ...elements]);
    else set.elements = set.elements.filter((e) => !elements.includes(set.kind === 'map' ? e.slice(0, e.indexOf(' : ')) : e));
  }
  return out;
}

/** The ACL files after `diffHaproxyAcls`'s changes, as the runtime commands leave them. */
function applyAclChanges(files: HaproxyAclFiles, next: HaproxyAclFiles): HaproxyAclFiles {
  const out = structuredClone(files);
  for (const c of diffHaproxyAcls(files, next)) out[c.file] = [...out[c.file]!.filter((p) => !c.remove.includes(p)), ...c.add].sort();
  return out;
}

const RUNTIME_SET = /^(?:add|delete) element inet netintent (?:l7_down|fq_\w+) /m;

describe('L7 table updates from pod churn', () => {
  it('element changes give exactly the full render, step after step, and leave the runtime sets alone', () => {
    let elements = 0;
    let replaces = 0;
    fc.assert(
      fc.property(fc.array(churnArb, { minLength: 1, maxLength: 6 }), (churns) => {
        let inv = inventory;
        let applied: NodeL7Output = renderNodeL7(ir, inv, 'n1');
        for (const churn of churns) {
          inv = applyChurn(inv, churn);
          const next = renderNodeL7(ir, inv, 'n1');
          const update = renderL7ElementUpdate(applied, next);
          if (!update) replaces++;
          if (update?.kind === 'elements') {
            elements++;
            expect(update.script).not.toMatch(RUNTIME_SET);
            expect(renderScript(applyElementScript(applied.ruleset, update.script), '')).toBe(renderScript(next.ruleset, ''));
          }
          if (update?.kind === 'none') expect(next.nftScript).toBe(applied.nftScript);
          if (update) {
            expect([next.haproxyConfig, next.dnsmasq]).toEqual([applied.haproxyConfig, applied.dnsmasq]);
            expect(applyAclChanges(applied.haproxyAcls, next.haproxyAcls)).toEqual(next.haproxyAcls);
          }
          applied = next;
        }
      }),
      // Few runs: the L7 render asks the reference evaluator per source and destination (~0.1 s here).
      { numRuns: 25 },
    );
    // Most churn that changes the table must take the element path, or this proves little
    // (DNS servers churning change dnsmasq's configuration: a replace).
    expect(elements / (elements + replaces)).toBeGreaterThan(0.4);
  });

  it('a new pod under the DNS and FQDN rules: its address joins the DNS steering, its group and its profiles, nothing else', () => {
    const base = renderNodeL7(ir, inventory, 'n1');
    const withPod: Inventory = { ...inventory, pods: [...inventory.pods, pod({ ns: 'w', name: 'new', ip: '10.123.4.9', labels: { pod: 'c' }, node: 'n1' })] };
    const next = renderNodeL7(ir, withPod, 'n1');
    const dnsSteering = [...next.ruleset.sets.keys()].find((n) => /^l7d_\w+_pods$/.test(n));
    const update = renderL7ElementUpdate(base, next);
    expect(update?.kind).toBe('elements');
    const commands = update!.script.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(commands.every((c) => c.startsWith('add element inet netintent ') && c.includes('{ 10.123.4.9'))).toBe(true);
    expect(commands.map((c) => c.split(' ')[4])).toEqual([expect.stringMatching(/^g_\w+_h4$/), 'l7_pods4', dnsSteering, 'pod_egress4', 'pod_ingress4']);
    expect(renderL7ElementUpdate(next, renderNodeL7(ir, structuredClone(withPod), 'n1'))).toEqual({ kind: 'none', script: '' });
  });

  it('a new HTTP client: the same HAProxy configuration, its address joins the ACL file of each web pod; gone again, it leaves them', () => {
    const base = renderNodeL7(ir, inventory, 'n1');
    const withClient: Inventory = { ...inventory, pods: [...inventory.pods, pod({ ns: 'x', name: 'b3', ip: '10.123.1.9', labels: { pod: 'b' }, node: 'n2' })] };
    const next = renderNodeL7(ir, withClient, 'n1');
    expect(next.haproxyConfig).toBe(base.haproxyConfig);
    expect(next.haproxyConfig).not.toContain('10.123.1.9');
    expect(renderL7ElementUpdate(base, next)?.kind).toBe('elements');
    // Two web pods (a replica): a frontend and an ACL file each.
    const files = Object.keys(base.haproxyAcls);
    expect(files).toHaveLength(2);
    expect(diffHaproxyAcls(base.haproxyAcls, next.haproxyAcls)).toEqual(files.map((file) => ({ file, add: ['10.123.1.9'], remove: [] })));
    expect(diffHaproxyAcls(next.haproxyAcls, base.haproxyAcls)).toEqual(files.map((file) => ({ file, add: [], remove: ['10.123.1.9'] })));
    expect(diffHaproxyAcls(next.haproxyAcls, structuredClone(next.haproxyAcls))).toEqual([]);
  });

  it('leaves to the full replace what changes the proxies or the table', () => {
    const base = renderNodeL7(ir, inventory, 'n1');
    // The same table, but HAProxy must enforce another path: a reload, so the full path.
    const otherPath = renderNodeL7(compile(INTENTS.replace('GET "/"', 'GET "/health"')), inventory, 'n1');
    expect(otherPath.nftScript).toBe(base.nftScript);
    expect(renderL7ElementUpdate(base, otherPath)).toBeUndefined();
    // Another DNS server: dnsmasq's upstreams change.
    const movedDns = renderNodeL7(ir, { ...inventory, pods: inventory.pods.map((p) => (p.name === 'dns' ? { ...p, ips: ['10.123.2.54'] } : p)) }, 'n1');
    expect(renderL7ElementUpdate(base, movedDns)).toBeUndefined();
    // A new IPv6 HTTP destination: the proxies stay the same (they are IPv4-only), but it
    // gets its own set and rule in l7_closed6.
    const v6Destination = renderNodeL7(ir, { ...inventory, pods: [...inventory.pods, pod({ ns: 'x', name: 'a6', ip: 'fd00:123::9:9', labels: { pod: 'a' }, node: 'n1' })] }, 'n1');
    expect([v6Destination.haproxyConfig, v6Destination.dnsmasq]).toEqual([base.haproxyConfig, base.dnsmasq]);
    expect(renderL7ElementUpdate(base, v6Destination)).toBeUndefined();
  });
});
