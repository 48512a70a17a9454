import { describe, expect, it } from 'vitest';
import { SelectorResolver, setContains, rangeToCidrs, cidrToRange } from '../../src/resolve/index.js';
import { e2eInventory, emptyIr, group, podsIn } from '../fixtures/ir.js';
import { subtractRanges, normalizeRanges } from '../../src/resolve/ranges.js';

describe('SelectorResolver', () => {
  it('resolves each distinct selector once, however many groups and rules share it', () => {
    const ir = emptyIr();
    ir.groups.push(group('a1', [podsIn(['x'], { pod: 'a' })]), group('a2', [podsIn(['x'], { pod: 'a' })]), group('both', [{ kind: 'group', group: 'group:a1' }, { kind: 'group', group: 'group:a2' }]));
    const r = new SelectorResolver(ir, e2eInventory());
    for (let i = 0; i < 100; i++) {
      r.group('group:a1');
      r.group('group:a2');
      r.groupUnion(['group:both', 'group:a1']);
    }
    expect(r.stats.selectorResolutions).toBe(1);
    expect([...r.group('group:both').hosts].sort()).toEqual(['10.123.1.1', 'fd00:123::1:1']);
  });

  it('matches tenant and notTenant scopes through the tenants\' namespace sets', () => {
    const ir = emptyIr();
    ir.tenants.push({ id: 'tenant:t', name: 't', namespaces: { kind: 'names', names: ['x', 'y'] }, isolation: 'strict', pools: [], networks: [], allowHostAccess: false });
    ir.groups.push(group('in', [{ kind: 'pods', scope: { kind: 'tenant', tenant: 't' }, selector: [] }]), group('out', [{ kind: 'pods', scope: { kind: 'notTenant', tenant: 't' }, selector: [] }]));
    const r = new SelectorResolver(ir, e2eInventory());
    expect(r.group('group:in').hosts.size).toBe(12);
    expect([...r.group('group:out').hosts].filter((h) => !h.includes(':')).sort()).toEqual(['10.123.3.1', '10.123.3.2', '10.123.3.3']);
  });

  it('keeps CIDR unions with excepts exact', () => {
    const ir = emptyIr();
    ir.groups.push(group('g', [{ kind: 'cidr', cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] }, { kind: 'cidr', cidr: '10.1.2.0/24', except: [] }]));
    const set = new SelectorResolver(ir, e2eInventory()).group('group:g');
    expect(setContains(set, '10.1.2.9')).toBe(true);
    expect(setContains(set, '10.1.3.9')).toBe(false);
    expect(setContains(set, '10.200.0.1')).toBe(true);
    expect(setContains(set, '11.0.0.1')).toBe(false);
    expect(set.ranges.flatMap(rangeToCidrs)).toEqual(['10.0.0.0/16', '10.1.2.0/24', '10.2.0.0/15', '10.4.0.0/14', '10.8.0.0/13', '10.16.0.0/12', '10.32.0.0/11', '10.64.0.0/10', '10.128.0.0/9']);
  });

  it('range arithmetic round-trips through CIDRs', () => {
    const r = subtractRanges([cidrToRange('fd00::/64')], [cidrToRange('fd00::8000:0:0:0/65')]);
    expect(r.flatMap(rangeToCidrs)).toEqual(['fd00::/65']);
    expect(normalizeRanges([cidrToRange('10.0.0.0/25'), cidrToRange('10.0.0.128/25')]).flatMap(rangeToCidrs)).toEqual(['10.0.0.0/24']);
    expect(rangeToCidrs(cidrToRange('0.0.0.0/0'))).toEqual(['0.0.0.0/0']);
  });
});
