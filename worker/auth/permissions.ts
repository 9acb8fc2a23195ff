import type { Context } from 'hono';
import { makeDb } from '../db/client';
import type { AppEnv, Role } from '../env';
import { ApiError } from '../lib/errors';
import { roleOf, type Policy } from '../policy/schema';
import { activePolicy } from '../store/policies';
import { atLeast } from './roles';

/**
 * `manage` comes from the tenant's active policy (DESIGN §4: roles carry `run`, `approve`,
 * `manage`): it covers policies, API keys and tenant settings. Without an active policy the
 * static rule applies (admins manage), so a tenant can always be repaired.
 */
export async function requireManage(c: Context<AppEnv>, action: string): Promise<void> {
  const p = c.get('principal');
  const policy = await activePolicy(makeDb(c.env.DB), p.tenantId).catch(() => undefined);
  const allowed = policy ? roleOf(policy.spec, p.role)?.manage === true : p.role === 'admin';
  if (!allowed) {
    throw new ApiError('forbidden', `Role "${p.role}" may not ${action}${policy ? ` (policy "${policy.spec.metadata.name}" does not give it manage)` : ''}`);
  }
}

/** Installation-wide actions (creating tenants, resealing stored secrets) are the platform owner's alone. */
export function requirePlatformOwner(c: Context<AppEnv>, action: string): void {
  if (!c.get('principal').platformOwner) throw new ApiError('forbidden', `Only the platform owner may ${action}`);
}

/**
 * Nobody hands out more power than they hold (DESIGN §14): not through a key, a rotation, an OIDC
 * group mapping, a webhook's `run_as_role` or `PUT /people`. `what` names the grant in the refusal.
 */
export function requireGrantable(callerRole: Role, granted: Role, what = 'create a key with'): void {
  if (!atLeast(callerRole, granted)) {
    throw new ApiError('forbidden', `Role "${callerRole}" may not ${what} role "${granted}" (above its own)`);
  }
}

/** Activating a policy that takes `manage` from the caller's role would lock them out: refused. */
export function requireKeepsManage(callerRole: Role, next: Policy): void {
  if (roleOf(next, callerRole)?.manage !== true) {
    throw new ApiError(
      'conflict',
      `Activating policy "${next.metadata.name}" would take "manage" from your role "${callerRole}" and lock you out of policies, keys and settings`,
    );
  }
}
