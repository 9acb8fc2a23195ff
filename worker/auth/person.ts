/**
 * Who a credential belongs to (DESIGN §14). Separation of duties and quorum compare persons, not
 * credentials: one person with two keys, or with a key and a browser session, is one person.
 *
 * A person's id is, in order of preference:
 * - their email, lower-cased: a key's `owner`, or the verified email of an OIDC sign-in, so a key
 *   and a browser session of the same person meet;
 * - `iss|sub` for an OIDC sign-in without a usable email;
 * - `key:<id>` for a key created before owners were recorded (its owner is unknown; the key is
 *   treated as a person of its own, as before, and its rotations keep that person).
 */

/** The forms a person id takes; an email never contains `|` and never starts with `key:`. */
export type PersonId = string;

const EMAIL = /^[^\s@|:]{1,64}@[^\s@|]{1,255}$/;

/** Whether `s` is an email as owners and `PUT /people/{email}` accept it. */
export function isEmail(s: string): boolean {
  return s.length <= 320 && EMAIL.test(s);
}

/** The canonical form of an email (people are matched on it). */
export function normalEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The person of an API key: its owner, else the key itself (a key from before owners). */
export function personOfKey(key: { id: string; owner: string | null }): PersonId {
  return key.owner ?? `key:${key.id}`;
}

/**
 * The person of an OIDC sign-in: the email, unless the IdP says it is not verified (then anybody
 * could claim somebody else's address, and with it their keys' person and assigned role).
 */
export function personOfOidc(identity: { subject: string; email?: string; emailVerified?: boolean }): PersonId {
  return identity.email && identity.emailVerified !== false && isEmail(identity.email) ? normalEmail(identity.email) : identity.subject;
}

/** What a run or an approval records about who acted: the credential, and (since §14) the person. */
export interface Party {
  id: string;
  person?: PersonId;
}

/**
 * Whether two parties are one person. Records from before persons were kept carry only the
 * credential id, so the credential ids are compared too: a match on either is the same person.
 */
export function samePerson(a: Party, b: Party): boolean {
  const mine = new Set([a.id, a.person].filter((x): x is string => !!x));
  return [b.id, b.person].some((x) => !!x && mine.has(x));
}

/** The id a party counts as in a quorum. */
export function personKey(p: Party): string {
  return p.person ?? p.id;
}
