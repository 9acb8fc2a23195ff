import type { Role } from '../env';

/** Roles from least to most powerful; a role includes every right of the roles below it. */
export const ROLES: readonly Role[] = ['viewer', 'operator', 'sre', 'admin'];

const RANK: Record<Role, number> = { viewer: 0, operator: 1, sre: 2, admin: 3 };

export function atLeast(role: Role, min: Role): boolean {
  return RANK[role] >= RANK[min];
}

export interface RoleMapping {
  role_mapping: Record<string, Role>;
  default_role?: Role;
}

/**
 * The role a person gets from their identity provider groups: the highest role any of their
 * groups maps to, else the tenant's `default_role`, else none (sign-in is refused). Group names
 * match exactly, as the IdP spells them.
 */
export function roleForGroups(groups: readonly string[], mapping: RoleMapping): Role | undefined {
  return roleFromMapping(groups, mapping) ?? mapping.default_role;
}

/** The highest role any of the groups maps to, without the default (undefined: no group is mapped). */
export function roleFromMapping(groups: readonly string[], mapping: Pick<RoleMapping, 'role_mapping'>): Role | undefined {
  let best: Role | undefined;
  for (const group of groups) {
    // Own properties only: a group called "constructor" must not reach Object.prototype.
    const role = Object.hasOwn(mapping.role_mapping, group) ? mapping.role_mapping[group] : undefined;
    if (role && (!best || RANK[role] > RANK[best])) best = role;
  }
  return best;
}

/**
 * A signed-in person's role: their groups' mapping first; a person none of whose groups is mapped
 * gets the role an admin gave them (`PUT /people`), else the tenant's `default_role`.
 */
export function personRole(groups: readonly string[], mapping: RoleMapping, assigned: Role | null | undefined): Role | undefined {
  return roleFromMapping(groups, mapping) ?? assigned ?? mapping.default_role;
}
