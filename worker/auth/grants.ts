/**
 * Role ceilings of the grants made through settings (DESIGN §14: nobody grants a role above their
 * own). Pure: the routes that save an OIDC role mapping or a webhook source call these.
 */
import type { Role } from '../env';
import { ApiError, type ErrorDetail } from '../lib/errors';
import { atLeast } from './roles';

interface Mapping {
  issuer: string;
  groups_claim?: string;
  role_mapping: Record<string, Role>;
  default_role?: Role;
}

/**
 * What a new OIDC role mapping grants above the caller's role that the stored one did not already
 * grant. An entry kept as it was stands (an admin set it); the same group names at another issuer
 * or read from another claim are new grants: whoever runs that issuer decides who is in them.
 */
export function mappingAboveCaller(callerRole: Role, next: Mapping, current: Mapping | undefined): ErrorDetail[] {
  const same = current && current.issuer === next.issuer && (current.groups_claim ?? 'groups') === (next.groups_claim ?? 'groups') ? current : undefined;
  const out: ErrorDetail[] = [];
  for (const [group, role] of Object.entries(next.role_mapping)) {
    const kept = same && Object.hasOwn(same.role_mapping, group) && same.role_mapping[group] === role;
    if (!atLeast(callerRole, role) && !kept) out.push({ path: `oidc.role_mapping.${group}`, message: `grants "${role}", above your role "${callerRole}"` });
  }
  if (next.default_role && !atLeast(callerRole, next.default_role) && same?.default_role !== next.default_role) {
    out.push({ path: 'oidc.default_role', message: `grants "${next.default_role}", above your role "${callerRole}"` });
  }
  return out;
}

/** Refuses (403, naming each entry) an OIDC role mapping that grants above the caller's role. */
export function requireMappingWithin(callerRole: Role, next: Mapping | undefined, current: Mapping | undefined): void {
  if (!next) return;
  const above = mappingAboveCaller(callerRole, next, current);
  if (above.length > 0) throw new ApiError('forbidden', `Role "${callerRole}" may not map identity provider groups to a role above its own`, above);
}

/**
 * A webhook source acts with its `run_as_role`: only someone who holds that role may set it, or
 * change a source that has it (a new secret would hand its power to whoever holds the secret).
 */
export function requireRunAsWithin(callerRole: Role, next: Role, current: Role | undefined): void {
  for (const [role, which] of [[next, 'set run_as_role to'], [current, 'change a webhook source that runs as']] as const) {
    if (role && !atLeast(callerRole, role)) {
      throw new ApiError('forbidden', `Role "${callerRole}" may not ${which} "${role}" (above its own)`, [{ path: 'run_as_role', message: `"${role}" is above your role "${callerRole}"` }]);
    }
  }
}
