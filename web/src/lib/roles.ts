import type { Role } from './types';

const ORDER: Role[] = ['viewer', 'operator', 'sre', 'admin'];

/**
 * Whether a role reaches `min` in the API's default order (viewer < operator < sre < admin). The UI
 * only uses it to leave out controls that would certainly be refused; the API decides, and its 403
 * is shown when a tenant's policy says otherwise.
 */
export function atLeast(role: Role, min: Role): boolean {
  return ORDER.indexOf(role) >= ORDER.indexOf(min);
}
