import { describe, expect, it } from 'vitest';
import { allowedAlgorithms, clientAuthMethod, groupsFromClaims, pkceChallenge, randomToken } from './oidc';
import type { Discovery } from './oidc-discovery';

const discovery: Discovery = {
  issuer: 'https://idp.example',
  authorization_endpoint: 'https://idp.example/authorize',
  token_endpoint: 'https://idp.example/token',
  jwks_uri: 'https://idp.example/jwks',
};
const settings = { issuer: 'https://idp.example', client_id: 'c', scopes: ['openid'], groups_claim: 'groups', role_mapping: {} };

describe('PKCE', () => {
  it('computes the S256 challenge of RFC 7636 appendix B', async () => {
    expect(await pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('makes 43-character base64url verifiers that differ every time', () => {
    const a = randomToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomToken()).not.toBe(a);
  });
});

describe('groupsFromClaims', () => {
  it('reads a list, a single string, a URL-named claim and a dotted path', () => {
    expect(groupsFromClaims({ groups: ['a', 'b'] }, 'groups')).toEqual(['a', 'b']);
    expect(groupsFromClaims({ groups: 'a' }, 'groups')).toEqual(['a']);
    expect(groupsFromClaims({ 'https://example.com/groups': ['x'] }, 'https://example.com/groups')).toEqual(['x']);
    expect(groupsFromClaims({ realm_access: { roles: ['ops'] } }, 'realm_access.roles')).toEqual(['ops']);
  });

  it('ignores what is not a list of strings', () => {
    expect(groupsFromClaims({}, 'groups')).toEqual([]);
    expect(groupsFromClaims({ groups: [1, null, '', 'ok', { a: 1 }] }, 'groups')).toEqual(['ok']);
    expect(groupsFromClaims({ groups: { admin: true } }, 'groups')).toEqual([]);
    expect(groupsFromClaims({ a: 'x' }, 'a.constructor')).toEqual([]);
  });
});

describe('allowedAlgorithms', () => {
  it('accepts only asymmetric algorithms the issuer advertises, RS256 when it says nothing', () => {
    expect(allowedAlgorithms(discovery)).toEqual(['RS256']);
    expect(allowedAlgorithms({ ...discovery, id_token_signing_alg_values_supported: ['none', 'HS256', 'ES256', 'RS256'] })).toEqual(['ES256', 'RS256']);
    expect(allowedAlgorithms({ ...discovery, id_token_signing_alg_values_supported: ['HS256'] })).toEqual(['RS256']);
  });
});

describe('clientAuthMethod', () => {
  it('follows the settings, else none for public clients, else basic unless only post is offered', () => {
    expect(clientAuthMethod({ ...settings, token_endpoint_auth_method: 'client_secret_post' }, discovery, true)).toBe('client_secret_post');
    expect(clientAuthMethod(settings, discovery, false)).toBe('none');
    expect(clientAuthMethod(settings, discovery, true)).toBe('client_secret_basic');
    expect(clientAuthMethod(settings, { ...discovery, token_endpoint_auth_methods_supported: ['client_secret_post'] }, true)).toBe('client_secret_post');
  });
});
