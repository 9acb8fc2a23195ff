import { createRemoteJWKSet } from 'jose';
import { z } from 'zod';
import { refuseOutboundUrl, type OutboundPolicy } from '../lib/outbound-url';
import { OidcError } from './oidc-error';

/** How long a discovery document is reused before it is fetched again (per isolate). */
export const DISCOVERY_TTL_MS = 5 * 60_000;
const FETCH_TIMEOUT_MS = 5_000;

const endpoint = z.string().url();

/** The parts of an OpenID Provider's metadata (OpenID Connect Discovery 1.0 §3) that sign-in uses. */
const DiscoverySchema = z.object({
  issuer: z.string(),
  authorization_endpoint: endpoint,
  token_endpoint: endpoint,
  jwks_uri: endpoint,
  id_token_signing_alg_values_supported: z.array(z.string()).optional(),
  token_endpoint_auth_methods_supported: z.array(z.string()).optional(),
  code_challenge_methods_supported: z.array(z.string()).optional(),
});

export type Discovery = z.infer<typeof DiscoverySchema>;

const discoveries = new Map<string, { at: number; doc: Promise<Discovery> }>();

/**
 * The issuer's discovery document, cached per isolate for a few minutes. The document's `issuer`
 * must be exactly the configured one (Discovery §4.3), or an attacker who controls a look-alike
 * document could point token verification at their own keys.
 */
export function discover(issuer: string, policy: OutboundPolicy, now = Date.now()): Promise<Discovery> {
  // The issuer is a tenant admin's choice: the server fetches from it only where it may call.
  const refused = refuseOutboundUrl(issuer, policy);
  if (refused) return Promise.reject(new OidcError('discovery_failed', `The identity provider's issuer URL ${refused}`));
  const cached = discoveries.get(issuer);
  if (cached && now - cached.at < DISCOVERY_TTL_MS) return cached.doc;
  const doc = fetchDiscovery(issuer, policy);
  discoveries.set(issuer, { at: now, doc });
  // A failure is not cached: the next sign-in tries again.
  doc.catch(() => {
    if (discoveries.get(issuer)?.doc === doc) discoveries.delete(issuer);
  });
  return doc;
}

async function fetchDiscovery(issuer: string, policy: OutboundPolicy): Promise<Discovery> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (err) {
    throw new OidcError('discovery_failed', `Could not reach the identity provider at ${url}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (res.status !== 200) throw new OidcError('discovery_failed', `The identity provider's discovery document answered HTTP ${res.status} (${url})`);
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new OidcError('discovery_failed', `The identity provider's discovery document is not JSON (${url})`);
  }
  const parsed = DiscoverySchema.safeParse(body);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new OidcError('discovery_failed', `The identity provider's discovery document lacks or garbles: ${fields}`);
  }
  if (parsed.data.issuer !== issuer) {
    throw new OidcError('discovery_failed', `The discovery document names issuer "${parsed.data.issuer}", not the configured "${issuer}"`);
  }
  // The document names the endpoints the server calls next (token, keys) and the one the browser
  // is sent to: each under the same rule as the issuer, whoever wrote the document.
  for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
    const refusedEndpoint = refuseOutboundUrl(parsed.data[field], policy);
    if (refusedEndpoint) throw new OidcError('discovery_failed', `The discovery document's ${field} ${refusedEndpoint}`);
  }
  return parsed.data;
}

type Jwks = ReturnType<typeof createRemoteJWKSet>;
const keySets = new Map<string, Jwks>();

/**
 * One remote key set per `jwks_uri`, kept for the isolate's life: jose caches the keys (10
 * minutes) and refetches when a token names a key it has not seen (the IdP rotated its keys).
 */
export function keySet(jwksUri: string): Jwks {
  let set = keySets.get(jwksUri);
  if (!set) {
    if (keySets.size > 100) keySets.clear();
    set = createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: FETCH_TIMEOUT_MS });
    keySets.set(jwksUri, set);
  }
  return set;
}
