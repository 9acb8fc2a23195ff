import { describe, expect, it } from 'vitest';
import { isEmail, personKey, personOfKey, personOfOidc, samePerson } from './person';

describe('persons', () => {
  it('a key is its owner, or itself when its owner is unknown (a key from before owners)', () => {
    expect(personOfKey({ id: 'key_1', owner: 'ann@example.com' })).toBe('ann@example.com');
    expect(personOfKey({ id: 'key_1', owner: null })).toBe('key:key_1');
  });

  it('an OIDC sign-in is its email unless the IdP says it is unverified; else iss|sub', () => {
    expect(personOfOidc({ subject: 'https://idp|u1', email: 'Ann@Example.com' })).toBe('ann@example.com');
    expect(personOfOidc({ subject: 'https://idp|u1', email: 'ann@example.com', emailVerified: true })).toBe('ann@example.com');
    expect(personOfOidc({ subject: 'https://idp|u1', email: 'ann@example.com', emailVerified: false })).toBe('https://idp|u1');
    expect(personOfOidc({ subject: 'https://idp|u1' })).toBe('https://idp|u1');
    expect(personOfOidc({ subject: 'https://idp|u1', email: 'not an email' })).toBe('https://idp|u1');
  });

  it('emails never look like the other forms of person id', () => {
    expect(isEmail('ann@example.com')).toBe(true);
    expect(isEmail('key:x@example.com')).toBe(false);
    expect(isEmail('https://idp|a@b.c')).toBe(false);
    expect(isEmail('a b@c.d')).toBe(false);
  });

  it('two parties are one person if their person or their credential matches', () => {
    expect(samePerson({ id: 'key_1', person: 'ann@example.com' }, { id: 'key_2', person: 'ann@example.com' })).toBe(true);
    expect(samePerson({ id: 'key_1' }, { id: 'key_1', person: 'key:key_1' })).toBe(true);
    expect(samePerson({ id: 'key_1', person: 'ann@example.com' }, { id: 'key_2', person: 'bob@example.com' })).toBe(false);
    expect(personKey({ id: 'key_1' })).toBe('key_1');
    expect(personKey({ id: 'key_1', person: 'ann@example.com' })).toBe('ann@example.com');
  });
});
