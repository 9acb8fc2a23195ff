import { describe, expect, it } from 'vitest';
import { ApiError } from '../lib/errors';
import { mappingAboveCaller, requireRunAsWithin } from './grants';

const ISSUER = 'https://idp.example.com';

describe('role ceilings of settings', () => {
  it('an OIDC mapping may not grant above the caller, by group or by default_role', () => {
    const next = { issuer: ISSUER, role_mapping: { ops: 'operator', admins: 'admin' } as const, default_role: 'admin' as const };
    expect(mappingAboveCaller('sre', next, undefined)).toEqual([
      { path: 'oidc.role_mapping.admins', message: expect.stringContaining('"admin"') },
      { path: 'oidc.default_role', message: expect.stringContaining('"admin"') },
    ]);
    expect(mappingAboveCaller('admin', next, undefined)).toEqual([]);
  });

  it('entries an admin set stand when someone lower saves the settings again, unless the issuer or claim changed', () => {
    const current = { issuer: ISSUER, groups_claim: 'groups', role_mapping: { admins: 'admin' } as const, default_role: 'admin' as const };
    expect(mappingAboveCaller('sre', { ...current, role_mapping: { admins: 'admin', ops: 'operator' } }, current)).toEqual([]);
    // The same group names at an issuer the caller may run mean something else.
    expect(mappingAboveCaller('sre', { ...current, issuer: 'https://evil.example.com' }, current)).toHaveLength(2);
    expect(mappingAboveCaller('sre', { ...current, groups_claim: 'roles' }, current)).toHaveLength(2);
    // Another group given the admin role is a new grant.
    expect(mappingAboveCaller('sre', { ...current, role_mapping: { admins: 'admin', mine: 'admin' } }, current)).toEqual([{ path: 'oidc.role_mapping.mine', message: expect.any(String) }]);
  });

  it("a webhook's run_as_role: set only within the caller's role, and a source above it is not theirs to change", () => {
    expect(() => requireRunAsWithin('sre', 'sre', 'operator')).not.toThrow();
    expect(() => requireRunAsWithin('sre', 'admin', 'operator')).toThrow(ApiError);
    expect(() => requireRunAsWithin('sre', 'operator', 'admin')).toThrow(/change a webhook source that runs as "admin"/);
    expect(() => requireRunAsWithin('viewer', 'operator', undefined)).toThrow(/set run_as_role to "operator"/);
  });
});
