import { describe, expect, it } from 'vitest';
import { atLeast, roleForGroups } from './roles';

describe('roleForGroups', () => {
  const mapping = { role_mapping: { viewers: 'viewer', ops: 'operator', sre: 'sre', admins: 'admin' } as const };

  it.each([
    [['viewers'], 'viewer'],
    [['ops', 'viewers'], 'operator'],
    [['viewers', 'admins', 'ops'], 'admin'],
    [['unknown', 'sre'], 'sre'],
  ] as const)('the highest mapped role wins: %j → %s', (groups, role) => {
    expect(roleForGroups(groups, mapping)).toBe(role);
  });

  it('falls back to default_role, else refuses', () => {
    expect(roleForGroups(['strangers'], { ...mapping, default_role: 'viewer' })).toBe('viewer');
    expect(roleForGroups([], { ...mapping, default_role: 'viewer' })).toBe('viewer');
    expect(roleForGroups(['strangers'], mapping)).toBeUndefined();
    expect(roleForGroups([], mapping)).toBeUndefined();
  });

  it('a mapped group beats a higher default_role (the default is for the unmapped only)', () => {
    expect(roleForGroups(['viewers'], { ...mapping, default_role: 'operator' })).toBe('viewer');
  });

  it('group names never reach Object.prototype', () => {
    expect(roleForGroups(['constructor', '__proto__', 'toString'], { role_mapping: {} })).toBeUndefined();
  });

  it('orders roles viewer < operator < sre < admin', () => {
    expect(atLeast('admin', 'sre')).toBe(true);
    expect(atLeast('sre', 'sre')).toBe(true);
    expect(atLeast('operator', 'sre')).toBe(false);
  });
});
