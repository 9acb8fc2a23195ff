/**
 * OpenID Connect, authorization code flow with PKCE (RFC 7636, S256), as a relying party:
 * building the authorization request, redeeming the code at the token endpoint, and verifying
 * the ID token against the issuer's JWKS. No tokens are kept: the ID token's claims open a
 * server-side session and the tokens are dropped.
 */
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { timingSafeEqual } from '../lib/crypto';
import type { StoredOidcSettings } from '../store/settings';
import { type Discovery, keySet } from './oidc-discovery';
import { OidcError } from './oidc-error';

const FETCH_TIMEOUT_MS = 5_000;

/** Signature algorithms accepted for ID tokens: asymmetric only (never `none`, never HMAC). */
const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** 256 random bits, base64url: states, nonces and PKCE verifiers (43 characters, RFC 7636 §4.1). */
export function randomToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** `BASE64URL(SHA256(ASCII(code_verifier)))` (RFC 7636 §4.2). */
export async function pkceChallenge(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

export interface AuthorizationRequest {
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
}

/** The URL the browser is sent to at the IdP; the endpoint's own query parameters are kept. */
export async function authorizationUrl(discovery: Discovery, settings: StoredOidcSettings, req: AuthorizationRequest): Promise<string> {
  const url = new URL(discovery.authorization_endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', settings.client_id);
  url.searchParams.set('redirect_uri', req.redirectUri);
  url.searchParams.set('scope', settings.scopes.join(' '));
  url.searchParams.set('state', req.state);
  url.searchParams.set('nonce', req.nonce);
  url.searchParams.set('code_challenge', await pkceChallenge(req.verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  return url.toString();
}

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

/**
 * How to authenticate at the token endpoint: as configured; else `none` for a public client;
 * else `client_secret_basic` (the spec's default) unless the issuer lists only `client_secret_post`.
 */
export function clientAuthMethod(settings: StoredOidcSettings, discovery: Discovery, hasSecret: boolean): ClientAuthMethod {
  if (settings.token_endpoint_auth_method) return settings.token_endpoint_auth_method;
  if (!hasSecret) return 'none';
  const supported = discovery.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
  return !supported.includes('client_secret_basic') && supported.includes('client_secret_post') ? 'client_secret_post' : 'client_secret_basic';
}

/** RFC 6749 §2.3.1: client id and secret are form-encoded before they are joined for Basic. */
function basicCredentials(clientId: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${btoa(`${enc(clientId)}:${enc(secret)}`)}`;
}

/** Redeems the authorization code for tokens and returns the ID token (RFC 6749 §4.1.3, RFC 7636 §4.5). */
export async function redeemCode(
  discovery: Discovery,
  client: { clientId: string; secret?: string; method: ClientAuthMethod },
  grant: { code: string; verifier: string; redirectUri: string },
): Promise<string> {
  const form = new URLSearchParams({ grant_type: 'authorization_code', code: grant.code, redirect_uri: grant.redirectUri, code_verifier: grant.verifier });
  const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
  if (client.method !== 'none' && !client.secret) {
    throw new OidcError('not_configured', `token_endpoint_auth_method ${client.method} needs a client secret; none is stored`);
  }
  if (client.method === 'client_secret_basic') headers.set('authorization', basicCredentials(client.clientId, client.secret!));
  else form.set('client_id', client.clientId);
  if (client.method === 'client_secret_post') form.set('client_secret', client.secret!);

  let res: Response;
  try {
    res = await fetch(discovery.token_endpoint, { method: 'POST', headers, body: form, redirect: 'manual', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (err) {
    throw new OidcError('token_exchange_failed', `Could not reach the token endpoint: ${err instanceof Error ? err.message : String(err)}`);
  }
  let body: Record<string, unknown> = {};
  try {
    body = (await res.json()) as Record<string, unknown>;
  } catch {
    // Described below by status.
  }
  if (!res.ok) {
    const code = typeof body.error === 'string' ? body.error.slice(0, 100) : `HTTP ${res.status}`;
    const description = typeof body.error_description === 'string' ? `: ${body.error_description.slice(0, 300)}` : '';
    throw new OidcError('token_exchange_failed', `The token endpoint refused the code (${code}${description})`);
  }
  if (typeof body.id_token !== 'string' || body.id_token.length === 0) {
    throw new OidcError('token_exchange_failed', 'The token endpoint answered without an id_token (is the "openid" scope granted?)');
  }
  return body.id_token;
}

/** Algorithms to accept: the issuer's advertised ones that are asymmetric; RS256 if it advertises none. */
export function allowedAlgorithms(discovery: Discovery): string[] {
  const advertised = discovery.id_token_signing_alg_values_supported?.filter((a) => ASYMMETRIC_ALGS.includes(a)) ?? [];
  return advertised.length > 0 ? advertised : ['RS256'];
}

/**
 * Verifies an ID token (OpenID Connect Core §3.1.3.7): signature by a key of the issuer's JWKS
 * with an allowed algorithm, `iss`, `aud` containing our client id (and `azp` when there are
 * several audiences), `exp`/`iat` with a minute of clock skew, and the `nonce` of this login.
 */
export async function verifyIdToken(idToken: string, discovery: Discovery, clientId: string, nonce: string): Promise<JWTPayload & { sub: string }> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, keySet(discovery.jwks_uri), {
      issuer: discovery.issuer,
      audience: clientId,
      algorithms: allowedAlgorithms(discovery),
      requiredClaims: ['sub', 'iat', 'exp'],
      clockTolerance: 60,
    }));
  } catch (err) {
    throw idTokenError(err);
  }
  if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== clientId) {
    throw new OidcError('wrong_audience', 'The ID token has several audiences and its azp is not this client');
  }
  if (payload.azp !== undefined && payload.azp !== clientId) throw new OidcError('wrong_audience', 'The ID token was issued to another client (azp)');
  if (typeof payload.nonce !== 'string' || !timingSafeEqual(payload.nonce, nonce)) {
    throw new OidcError('nonce_mismatch', 'The ID token does not carry the nonce of this sign-in (replayed or injected token)');
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') throw new OidcError('invalid_id_token', 'The ID token has no subject');
  return payload as JWTPayload & { sub: string };
}

function idTokenError(err: unknown): OidcError {
  if (err instanceof OidcError) return err;
  if (err instanceof joseErrors.JWTExpired) return new OidcError('token_expired', 'The ID token has expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return new OidcError('wrong_audience', 'The ID token was not issued for this client (aud)');
    if (err.claim === 'iss') return new OidcError('wrong_issuer', 'The ID token was not issued by the configured issuer (iss)');
    return new OidcError('invalid_id_token', `The ID token's "${err.claim}" claim is invalid (${err.reason})`);
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new OidcError('bad_signature', "The ID token's signature does not verify against the issuer's keys");
  if (err instanceof joseErrors.JWKSNoMatchingKey) return new OidcError('bad_signature', "The ID token is signed with a key the issuer does not publish");
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return new OidcError('bad_signature', 'The ID token is signed with an algorithm that is not allowed');
  if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid) {
    return new OidcError('discovery_failed', "Could not load the issuer's signing keys (JWKS)");
  }
  if (err instanceof joseErrors.JOSEError) return new OidcError('invalid_id_token', `The ID token is invalid (${err.code})`);
  return new OidcError('discovery_failed', `Could not verify the ID token: ${err instanceof Error ? err.message : String(err)}`);
}

/** The groups in a claim: an exact claim name first (URL-named claims have dots), else a dotted path. */
export function groupsFromClaims(claims: Record<string, unknown>, claim: string): string[] {
  let value: unknown = Object.hasOwn(claims, claim) ? claims[claim] : undefined;
  if (value === undefined && claim.includes('.')) {
    value = claim.split('.').reduce<unknown>((at, part) => (at && typeof at === 'object' && Object.hasOwn(at, part) ? (at as Record<string, unknown>)[part] : undefined), claims);
  }
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  // Bounded: the groups are stored with the session and listed in the audit log.
  return list.filter((g): g is string => typeof g === 'string' && g.length > 0 && g.length <= 500).slice(0, 200);
}

/** A claim as a short display string, if it is one. */
export function stringClaim(claims: Record<string, unknown>, name: string): string | undefined {
  const v = claims[name];
  return typeof v === 'string' && v.length > 0 ? v.slice(0, 320) : undefined;
}
