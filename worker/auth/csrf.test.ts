import { describe, expect, it } from 'vitest';
import { crossSiteReason } from './csrf';

const URL_ = 'https://runbooks.example.com/api/v1/runs';

describe('cross-site gate', () => {
  it('trusts Sec-Fetch-Site first: same-origin and none pass; same-site and cross-site do not', () => {
    expect(crossSiteReason({ url: URL_, secFetchSite: 'same-origin' })).toBeUndefined();
    expect(crossSiteReason({ url: URL_, secFetchSite: 'none' })).toBeUndefined();
    expect(crossSiteReason({ url: URL_, secFetchSite: 'same-site', origin: 'https://runbooks.example.com' })).toMatch(/same-site/);
    expect(crossSiteReason({ url: URL_, secFetchSite: 'cross-site' })).toMatch(/cross-site/);
  });

  it('without it, Origin must be this origin', () => {
    expect(crossSiteReason({ url: URL_, origin: 'https://runbooks.example.com' })).toBeUndefined();
    expect(crossSiteReason({ url: URL_, origin: 'https://evil.example.com' })).toMatch(/evil/);
    expect(crossSiteReason({ url: URL_, origin: 'null' })).toMatch(/null/);
  });

  it('a client that sends neither is not a browser page', () => {
    expect(crossSiteReason({ url: URL_ })).toBeUndefined();
  });
});
