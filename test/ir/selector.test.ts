import { describe, expect, it } from 'vitest';
import { matchesSelector } from '../../src/ir/selector.js';

describe('label selector semantics (Kubernetes)', () => {
  const labels = { app: 'web', tier: 'gold' };
  it('empty selector matches everything', () => expect(matchesSelector([], {})).toBe(true));
  it('In / NotIn / Exists / DoesNotExist', () => {
    expect(matchesSelector([{ key: 'app', op: 'In', values: ['web', 'api'] }], labels)).toBe(true);
    expect(matchesSelector([{ key: 'app', op: 'In', values: ['api'] }], labels)).toBe(false);
    expect(matchesSelector([{ key: 'app', op: 'NotIn', values: ['api'] }], labels)).toBe(true);
    expect(matchesSelector([{ key: 'missing', op: 'NotIn', values: ['x'] }], labels)).toBe(true);
    expect(matchesSelector([{ key: 'tier', op: 'Exists', values: [] }], labels)).toBe(true);
    expect(matchesSelector([{ key: 'tier', op: 'DoesNotExist', values: [] }], labels)).toBe(false);
  });
  it('requirements are ANDed', () => {
    expect(matchesSelector([{ key: 'app', op: 'In', values: ['web'] }, { key: 'tier', op: 'In', values: ['silver'] }], labels)).toBe(false);
  });
});
