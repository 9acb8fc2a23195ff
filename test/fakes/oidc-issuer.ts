/**
 * A fake OpenID Provider that speaks the documented HTTP API (OpenID Connect Core and Discovery,
 * RFC 6749, RFC 7636), with real RSA keys, so the Worker's relying-party code runs unchanged
 * against it. It is a plain fetch handler (`issuer.fetch(request)`): inside workerd tests
 * `install()` routes the isolate's outbound `fetch` for the issuer's origin to it; a Node test can
 * serve the same handler over HTTP (e.g. with `node:http` and `Request`/`Response`) and configure
 * the tenant with that URL as the issuer.
 *
 * The knobs mint the tokens a hostile or broken IdP would: signed by another key under the
 * published key id, for another audience, expired, with the wrong nonce, with any groups.
 */
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export interface FakeUser {
  sub: string;
  email?: string;
  name?: string;
  groups?: string[];
  /** Extra claims merged into the ID token. */
  claims?: Record<string, unknown>;
}

/** How the next ID token goes wrong (nothing set: a valid token). */
export interface TokenKnobs {
  /** Sign with a key the issuer does not publish, under the published key id. */
  badSignature?: boolean;
  audience?: string | string[];
  /** Seconds from now; negative for an expired token. Default 300. */
  expiresIn?: number;
  nonce?: string;
  issuer?: string;
  /** Answer the token request without an id_token. */
  omitIdToken?: boolean;
}

export interface FakeClient {
  client_id: string;
  client_secret?: string;
  auth_method: 'client_secret_basic' | 'client_secret_post' | 'none';
  /** Registered redirect URIs; none registered: any is accepted. */
  redirect_uris?: string[];
}

interface CodeGrant {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce?: string;
  user: FakeUser;
  knobs: TokenKnobs;
  expiresAt: number;
  used: boolean;
}

/** One token request as the fake saw it, for assertions (never contains the secret). */
export interface TokenRequestLog {
  client_id?: string;
  client_auth: 'client_secret_basic' | 'client_secret_post' | 'none';
  grant_type: string | null;
  status: number;
  error?: string;
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers } });

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(24)));
}

async function s256(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));

export class FakeOidcIssuer {
  /** The person who "signs in" at the next authorization request. */
  user: FakeUser = { sub: 'user-1', email: 'ada@example.com', name: 'Ada Lovelace', groups: [] };
  /** Applied to the ID token of the next code issued. */
  knobs: TokenKnobs = {};
  /** When set, the authorization endpoint answers this error instead of a code (e.g. access_denied). */
  authorizeError?: string;
  readonly tokenRequests: TokenRequestLog[] = [];
  /** Every request the fake served (method and path), to assert what the Worker fetched. */
  readonly requests: string[] = [];
  readonly clients = new Map<string, FakeClient>();
  private readonly codes = new Map<string, CodeGrant>();

  private constructor(
    readonly issuer: string,
    private readonly kid: string,
    private readonly signingKey: CryptoKey,
    private readonly otherKey: CryptoKey,
    private readonly publicJwk: JWK,
  ) {}

  /** A new issuer with fresh keys. The default origin is unique, so caches keyed by issuer never mix tests. */
  static async create(opts: { issuer?: string; clients?: FakeClient[] } = {}): Promise<FakeOidcIssuer> {
    const issuer = opts.issuer ?? `https://idp-${randomString().toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 10)}.test`;
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const other = await generateKeyPair('RS256');
    const kid = `k-${randomString().slice(0, 8)}`;
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
    const fake = new FakeOidcIssuer(issuer.replace(/\/$/, ''), kid, privateKey, other.privateKey, jwk);
    for (const c of opts.clients ?? []) fake.clients.set(c.client_id, c);
    return fake;
  }

  get origin(): string {
    return new URL(this.issuer).origin;
  }

  /** The fetch handler: discovery, JWKS, authorization and token endpoints. */
  fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const base = new URL(this.issuer).pathname.replace(/\/$/, '');
    const path = url.pathname.startsWith(base) ? url.pathname.slice(base.length) : url.pathname;
    this.requests.push(`${request.method} ${path}`);
    if (request.method === 'GET' && path === '/.well-known/openid-configuration') return json(this.discovery());
    if (request.method === 'GET' && path === '/jwks') return json({ keys: [this.publicJwk] });
    if (request.method === 'GET' && path === '/authorize') return this.authorize(url);
    if (request.method === 'POST' && path === '/token') return this.token(request);
    return json({ error: 'not_found' }, 404);
  };

  discovery() {
    return {
      issuer: this.issuer,
      authorization_endpoint: `${this.issuer}/authorize`,
      token_endpoint: `${this.issuer}/token`,
      jwks_uri: `${this.issuer}/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['openid', 'email', 'profile', 'groups'],
    };
  }

  /** Auto-consents: the current `user` signs in, and the browser goes back with a code. */
  private async authorize(url: URL): Promise<Response> {
    const q = url.searchParams;
    const client = this.clients.get(q.get('client_id') ?? '');
    const redirectUri = q.get('redirect_uri') ?? '';
    // Errors about the client or redirect URI are shown at the IdP, never sent to an unverified URI.
    if (!client) return json({ error: 'invalid_client', error_description: 'unknown client_id' }, 400);
    if (!redirectUri || (client.redirect_uris && !client.redirect_uris.includes(redirectUri))) {
      return json({ error: 'invalid_request', error_description: 'redirect_uri is not registered' }, 400);
    }
    const back = new URL(redirectUri);
    const state = q.get('state');
    if (state !== null) back.searchParams.set('state', state);
    back.searchParams.set('iss', this.issuer);
    const fail = (error: string) => {
      back.searchParams.set('error', error);
      return new Response(null, { status: 302, headers: { location: back.toString() } });
    };
    if (q.get('response_type') !== 'code') return fail('unsupported_response_type');
    if (!(q.get('scope') ?? '').split(' ').includes('openid')) return fail('invalid_scope');
    // PKCE is required, S256 only: a client that sends `plain` or nothing is refused.
    const challenge = q.get('code_challenge');
    if (!challenge || q.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) return fail('invalid_request');
    if (this.authorizeError) return fail(this.authorizeError);
    const code = randomString();
    this.codes.set(code, {
      clientId: client.client_id,
      redirectUri,
      challenge,
      nonce: q.get('nonce') ?? undefined,
      user: structuredClone(this.user),
      knobs: { ...this.knobs },
      expiresAt: Date.now() + 60_000,
      used: false,
    });
    back.searchParams.set('code', code);
    return new Response(null, { status: 302, headers: { location: back.toString() } });
  }

  private async token(request: Request): Promise<Response> {
    const form = new URLSearchParams(new TextDecoder().decode(await request.arrayBuffer()));
    const log: TokenRequestLog = { client_auth: 'none', grant_type: form.get('grant_type'), status: 200 };
    this.tokenRequests.push(log);
    const fail = (status: number, error: string, description: string) => {
      log.status = status;
      log.error = error;
      return json({ error, error_description: description }, status, status === 401 ? { 'www-authenticate': 'Basic realm="fake-idp"' } : {});
    };

    // Client authentication (RFC 6749 §2.3.1), by the method the client registered.
    let clientId = form.get('client_id') ?? undefined;
    let secret: string | undefined;
    const header = request.headers.get('authorization');
    if (header?.startsWith('Basic ')) {
      const decoded = atob(header.slice(6));
      const colon = decoded.indexOf(':');
      if (colon < 0) return fail(401, 'invalid_client', 'malformed Basic credentials');
      clientId = formDecode(decoded.slice(0, colon));
      secret = formDecode(decoded.slice(colon + 1));
      log.client_auth = 'client_secret_basic';
    } else if (form.has('client_secret')) {
      secret = form.get('client_secret') ?? undefined;
      log.client_auth = 'client_secret_post';
    }
    log.client_id = clientId;
    const client = this.clients.get(clientId ?? '');
    if (!client) return fail(401, 'invalid_client', 'unknown client');
    if (log.client_auth !== client.auth_method) return fail(401, 'invalid_client', `client must authenticate with ${client.auth_method}`);
    if (client.auth_method !== 'none' && secret !== client.client_secret) return fail(401, 'invalid_client', 'wrong client secret');

    if (form.get('grant_type') !== 'authorization_code') return fail(400, 'unsupported_grant_type', 'only authorization_code');
    const code = form.get('code') ?? '';
    const grant = this.codes.get(code);
    if (!grant) return fail(400, 'invalid_grant', 'unknown code');
    // Single use: a code presented twice is refused, whatever happened the first time.
    if (grant.used) return fail(400, 'invalid_grant', 'code already used');
    grant.used = true;
    if (grant.expiresAt < Date.now()) return fail(400, 'invalid_grant', 'code expired');
    if (grant.clientId !== client.client_id) return fail(400, 'invalid_grant', 'code was issued to another client');
    if (form.get('redirect_uri') !== grant.redirectUri) return fail(400, 'invalid_grant', 'redirect_uri differs from the authorization request');
    const verifier = form.get('code_verifier');
    if (!verifier || !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return fail(400, 'invalid_grant', 'code_verifier missing or malformed');
    if ((await s256(verifier)) !== grant.challenge) return fail(400, 'invalid_grant', 'code_verifier does not match code_challenge');

    const body: Record<string, unknown> = { access_token: randomString(), token_type: 'Bearer', expires_in: 300 };
    if (!grant.knobs.omitIdToken) body.id_token = await this.mintIdToken(grant.user, { nonce: grant.nonce, clientId: grant.clientId, ...grant.knobs });
    return json(body);
  }

  /** An ID token for `user`, signed as this issuer would (or as the knobs say it should not be). */
  async mintIdToken(user: FakeUser, opts: TokenKnobs & { clientId: string }): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = opts.expiresIn ?? 300;
    const claims: Record<string, unknown> = { ...user.claims };
    if (user.email !== undefined) claims.email = user.email;
    if (user.name !== undefined) claims.name = user.name;
    if (user.groups !== undefined) claims.groups = user.groups;
    if (opts.nonce !== undefined) claims.nonce = opts.nonce;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: this.kid, typ: 'JWT' })
      .setIssuer(opts.issuer ?? this.issuer)
      .setSubject(user.sub)
      .setAudience(opts.audience ?? opts.clientId)
      .setIssuedAt(expiresIn < 0 ? now + expiresIn - 600 : now)
      .setExpirationTime(now + expiresIn)
      .sign(opts.badSignature ? this.otherKey : this.signingKey);
  }

  /**
   * Routes the isolate's `fetch` for this issuer's origin to the fake and leaves every other
   * origin alone; returns the undo. Inside @cloudflare/vitest-plugin the Worker under test
   * runs in the test's isolate (`exports.default.fetch`), so its outbound calls see this too.
   */
  install(): () => void {
    const original = globalThis.fetch;
    const origin = this.origin;
    const routed: typeof fetch = (input, init) => {
      const request = new Request(input, init);
      return new URL(request.url).origin === origin ? this.fetch(request) : original(input, init);
    };
    globalThis.fetch = routed;
    return () => {
      if (globalThis.fetch === routed) globalThis.fetch = original;
    };
  }
}
