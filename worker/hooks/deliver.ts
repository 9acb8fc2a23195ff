import { and, eq, isNull, or } from 'drizzle-orm';
import { evalCel, evalCondition } from '../cel';
import type { DB } from '../db/client';
import { runbookVersions, runbooks, tenants, webhookDeliveries } from '../db/schema';
import type { Env, Principal, Role } from '../env';
import { resolveInputs } from '../runbooks';
import type { Runbook } from '../runbooks/types';
import { startRun } from '../runs/create';

/** The most runs one delivery may start: a broad trigger must not fan out without bound. */
export const MAX_RUNS_PER_DELIVERY = 10;

export interface TriggerMatch {
  runbook: string;
  trigger: number;
  run?: string;
  error?: string;
}

export interface Delivery {
  delivery: string;
  duplicate: boolean;
  runs: string[];
  matches: TriggerMatch[];
}

/** The latest version of every active runbook of the tenant with a trigger for this source. */
async function triggeredRunbooks(db: DB, tenantId: string, source: string) {
  const rows = await db
    .select({ id: runbooks.id, name: runbooks.name, version: runbooks.version, spec: runbookVersions.spec })
    .from(runbooks)
    .innerJoin(runbookVersions, and(eq(runbookVersions.runbookId, runbooks.id), eq(runbookVersions.version, runbooks.version)))
    .where(and(eq(runbooks.tenantId, tenantId), isNull(runbooks.archivedAt)))
    .orderBy(runbooks.name);
  return rows
    .map((r) => ({ ...r, spec: r.spec as Runbook }))
    .filter((r) => r.spec.spec.triggers.some((t) => t.source === source));
}

/**
 * Records a verified delivery once and starts the runs its triggers match. A delivery seen before
 * — the same signed content (`dedupeKey`), or the sender's retry under the same delivery id —
 * answers with the runs it started then, and starts nothing.
 */
export async function deliver(
  env: Env,
  db: DB,
  input: { tenantId: string; source: string; deliveryId: string; dedupeKey: string; eventType?: string; event: unknown; runAs: Role },
): Promise<Delivery> {
  const vendorId = input.deliveryId === input.dedupeKey ? null : input.deliveryId;
  const inserted = await db
    .insert(webhookDeliveries)
    .values({ tenantId: input.tenantId, source: input.source, deliveryId: input.dedupeKey, vendorDeliveryId: vendorId, eventType: input.eventType ?? null })
    .onConflictDoNothing()
    .returning({ id: webhookDeliveries.deliveryId });
  if (inserted.length === 0) {
    const same = vendorId === null ? eq(webhookDeliveries.deliveryId, input.dedupeKey) : or(eq(webhookDeliveries.deliveryId, input.dedupeKey), eq(webhookDeliveries.vendorDeliveryId, vendorId));
    const [seen] = await db
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.tenantId, input.tenantId), eq(webhookDeliveries.source, input.source), same))
      .limit(1);
    return { delivery: seen?.vendorDeliveryId ?? seen?.deliveryId ?? input.deliveryId, duplicate: true, runs: (seen?.runs as string[]) ?? [], matches: (seen?.matches as TriggerMatch[]) ?? [] };
  }

  const [tenant] = await db.select({ name: tenants.name }).from(tenants).where(eq(tenants.id, input.tenantId));
  const principal: Principal = {
    tenantId: input.tenantId,
    tenantName: tenant?.name ?? input.tenantId,
    keyId: `hook:${input.source}`,
    keyName: `${input.source} webhook`,
    role: input.runAs,
    platformOwner: false,
    actor: { type: 'webhook', id: `hook:${input.source}` },
  };
  const context = { trigger: { source: input.source, delivery: input.deliveryId, ...(input.eventType ? { event_type: input.eventType } : {}) } };
  const vars = { event: input.event, context };
  const matches: TriggerMatch[] = [];
  const runs: string[] = [];
  for (const rb of await triggeredRunbooks(db, input.tenantId, input.source)) {
    for (const [i, trigger] of rb.spec.spec.triggers.entries()) {
      if (trigger.source !== input.source) continue;
      let matched: boolean;
      try {
        matched = evalCondition(trigger.when, vars);
      } catch (err) {
        // An event without the fields a trigger reads simply does not match; say why in the record.
        matches.push({ runbook: rb.name, trigger: i, error: `when: ${(err as Error).message}` });
        continue;
      }
      if (!matched) continue;
      if (runs.length >= MAX_RUNS_PER_DELIVERY) {
        matches.push({ runbook: rb.name, trigger: i, error: `not started: one delivery starts at most ${MAX_RUNS_PER_DELIVERY} runs` });
        continue;
      }
      const given: Record<string, unknown> = {};
      let inputError: string | undefined;
      for (const [name, expr] of Object.entries(trigger.inputs)) {
        try {
          given[name] = evalCel(expr, vars);
        } catch (err) {
          inputError = `inputs.${name}: ${(err as Error).message}`;
          break;
        }
      }
      if (inputError) {
        matches.push({ runbook: rb.name, trigger: i, error: inputError });
        continue;
      }
      const inputs = resolveInputs(rb.spec, given);
      if (!inputs.ok) {
        matches.push({ runbook: rb.name, trigger: i, error: inputs.errors.map((e) => `${e.path}: ${e.message}`).join('; ') });
        continue;
      }
      try {
        const { run } = await startRun(env, db, principal, {
          runbook: { id: rb.id, name: rb.name, version: rb.version },
          spec: rb.spec,
          inputs: inputs.inputs,
          context,
          mode: 'execute',
        });
        runs.push(run.id);
        matches.push({ runbook: rb.name, trigger: i, run: run.id });
      } catch (err) {
        matches.push({ runbook: rb.name, trigger: i, error: (err as Error).message });
      }
      break; // one run per runbook per delivery, whichever of its triggers matched first
    }
  }
  await db
    .update(webhookDeliveries)
    .set({ runs, matches })
    .where(and(eq(webhookDeliveries.tenantId, input.tenantId), eq(webhookDeliveries.source, input.source), eq(webhookDeliveries.deliveryId, input.dedupeKey)));
  return { delivery: input.deliveryId, duplicate: false, runs, matches };
}
