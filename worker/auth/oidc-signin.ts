import type { DB } from '../db/client';
import type { Env, Role } from '../env';
import { timingSafeEqual } from '../lib/crypto';
import { outboundPolicy } from '../lib/outbound-url';
import { decryptSecret } from '../lib/secrets';
import { getTenantSettings } from '../store/settings';
import { authorizationUrl, clientAuthMethod, groupsFromClaims, randomToken, redeemCode, stringClaim, verifyIdToken } from './oidc';
import { discover } from './oidc-discovery';
import { OidcError } from './oidc-error';
import type { LoginState } from './oidc-login-state';
import { getPerson } from '../store/people';
import { personOfOidc } from './person';
import { personRole, roleFromMapping } from './roles';

/** The person an ID token describes. */
export interface OidcIdentity {
  issuer: string;
  sub: string;
  /** `iss|sub`: unique across issuers, the person's id in sessions and the audit log. */
  subject: string;
  email?: string;
  /** The IdP's `email_verified`, when it says. */
  emailVerified?: boolean;
  name?: string;
  groups: string[];
  /** The person this sign-in is (person.ts): the verified email, else `iss|sub`. */
  person: string;
}

/** Step one: where to send the browser, and what its login-state cookie must remember. */
export async function beginOidcLogin(env: Env, db: DB, tenantId: string, redirectUri: string, returnTo: string): Promise<{ url: string; state: LoginState }> {
  const oidc = (await getTenantSettings(db, tenantId)).oidc;
  if (!oidc) throw new OidcError('not_configured', 'Sign-in with an identity provider is not configured for this tenant');
  const discovery = await discover(oidc.issuer, outboundPolicy(env));
  const state: LoginState = {
    tenantId,
    issuer: oidc.issuer,
    clientId: oidc.client_id,
    state: randomToken(),
    nonce: randomToken(),
    verifier: randomToken(),
    redirectUri,
    returnTo,
  };
  return { url: await authorizationUrl(discovery, oidc, state), state };
}

/** What the IdP sent back on the callback URL. */
export interface CallbackParams {
  code?: string;
  state?: string;
  error?: string;
  /** RFC 9207: names the issuer that answers, which defeats mix-up between identity providers. */
  iss?: string;
}

/**
 * Step two: checks the callback against the pending login, redeems the code (with the PKCE
 * verifier and client authentication), verifies the ID token and maps the person's groups to a
 * role. Throws OidcError with a reason code; once the token has been verified the error carries
 * the identity, so a refusal can be audited with who was refused.
 */
export async function completeOidcLogin(env: Env, db: DB, pending: LoginState, params: CallbackParams): Promise<{ identity: OidcIdentity; role: Role; groupsRole?: Role }> {
  if (!params.state || !timingSafeEqual(params.state, pending.state)) {
    throw new OidcError('state_mismatch', 'The sign-in response does not belong to the sign-in this browser started (state mismatch)');
  }
  if (params.iss !== undefined && params.iss !== pending.issuer) {
    throw new OidcError('wrong_issuer', `The sign-in response came from "${params.iss.slice(0, 200)}", not the tenant's identity provider`);
  }
  if (params.error) {
    const code = /^[a-z_]{1,64}$/.test(params.error) ? params.error : 'unknown_error';
    throw new OidcError('idp_error', `The identity provider refused the sign-in (${code})`);
  }
  if (!params.code) throw new OidcError('missing_code', 'The identity provider sent no authorization code');

  const oidc = (await getTenantSettings(db, pending.tenantId)).oidc;
  if (!oidc) throw new OidcError('not_configured', 'Sign-in with an identity provider is no longer configured for this tenant');
  if (oidc.issuer !== pending.issuer || oidc.client_id !== pending.clientId) {
    throw new OidcError('settings_changed', 'The tenant changed its identity provider settings during the sign-in; start again');
  }
  const discovery = await discover(oidc.issuer, outboundPolicy(env));
  let secret: string | undefined;
  if (oidc.client_secret_enc) {
    try {
      secret = await decryptSecret(env, pending.tenantId, oidc.client_secret_enc);
    } catch {
      throw new OidcError('not_configured', 'The stored client secret cannot be decrypted (was SECRETS_KEY changed?); an admin must set it again');
    }
  }
  const idToken = await redeemCode(
    discovery,
    { clientId: oidc.client_id, secret, method: clientAuthMethod(oidc, discovery, secret !== undefined) },
    { code: params.code, verifier: pending.verifier, redirectUri: pending.redirectUri },
  );
  const claims = await verifyIdToken(idToken, discovery, oidc.client_id, pending.nonce);
  const subject = `${discovery.issuer}|${claims.sub}`;
  const email = stringClaim(claims, 'email');
  const verified = claims.email_verified;
  const emailVerified = verified === true || verified === 'true' ? true : verified === false || verified === 'false' ? false : undefined;
  const identity: OidcIdentity = {
    issuer: discovery.issuer,
    sub: claims.sub,
    subject,
    email,
    ...(emailVerified !== undefined ? { emailVerified } : {}),
    name: stringClaim(claims, 'name') ?? stringClaim(claims, 'preferred_username'),
    groups: groupsFromClaims(claims, oidc.groups_claim),
    person: personOfOidc({ subject, email, emailVerified }),
  };
  const groupsRole = roleFromMapping(identity.groups, oidc);
  const role = personRole(identity.groups, oidc, groupsRole ? undefined : (await getPerson(db, pending.tenantId, identity.person))?.role);
  if (!role) {
    const groups = identity.groups.length ? identity.groups.map((g) => `"${g}"`).join(', ') : 'none';
    const err = new OidcError(
      'no_role',
      `Signed in as ${identity.email ?? identity.sub}, but none of your groups (${groups}) maps to a role in this tenant and it has no default role; ask a tenant admin to map one of your groups`,
    );
    err.identity = { subject: identity.subject, sub: identity.sub, email: identity.email, groups: identity.groups };
    throw err;
  }
  return { identity, role, ...(groupsRole ? { groupsRole } : {}) };
}
