import { and, eq, sql } from 'drizzle-orm';
import type { DB } from '../db/client';
import { runSteps, runs } from '../db/schema';
import { TERMINAL_RUN, type RunState, type StepState } from './types';

/** Whether the tenant has a run with this id in D1 (a run of another tenant is not found). */
export async function runExists(db: DB, tenantId: string, id: string): Promise<boolean> {
  const [row] = await db.select({ id: runs.id }).from(runs).where(and(eq(runs.tenantId, tenantId), eq(runs.id, id))).limit(1);
  return row !== undefined;
}

/** The D1 row of a run. */
export function runRow(run: RunState, now = new Date().toISOString()) {
  return {
    id: run.id,
    tenantId: run.tenantId,
    runbookId: run.runbook.id,
    runbookName: run.runbook.name,
    runbookVersion: run.runbook.version,
    policyId: run.policyId,
    status: run.status,
    mode: run.mode,
    inputs: run.inputs,
    context: run.context,
    actorType: run.actor.type,
    actorId: run.actor.id,
    actorRole: run.actor.role,
    actorPerson: run.actor.person ?? null,
    reason: run.reason ?? null,
    costUsd: run.cost_usd,
    tokens: run.tokens,
    createdAt: run.created_at,
    updatedAt: now,
    endedAt: run.ended_at ?? null,
    nextWakeAt: TERMINAL_RUN.has(run.status) ? null : (run.next_wake_at ?? null),
  };
}

/**
 * The upserts that copy the run and the given steps to D1, where lists and the approvals inbox
 * read them (the outbox sends them with the ledger's rows in one batch).
 */
export function mirrorStatements(db: DB, run: RunState, steps: StepState[]) {
  const now = new Date().toISOString();
  const row0 = runRow(run, now);
  const statements = [
    db
      .insert(runs)
      .values(row0)
      .onConflictDoUpdate({
        target: runs.id,
        set: {
          status: row0.status,
          reason: row0.reason,
          costUsd: row0.costUsd,
          tokens: row0.tokens,
          updatedAt: now,
          endedAt: row0.endedAt,
          nextWakeAt: row0.nextWakeAt,
          // The admission insert (policy/usage.ts) writes the row first, without the person.
          actorPerson: row0.actorPerson,
        },
      }),
    ...steps.map((s) => {
      const row = {
        runId: run.id,
        stepId: s.id,
        tenantId: run.tenantId,
        idx: s.idx,
        tool: s.tool,
        status: s.status,
        args: s.args ?? null,
        // A large result is copied as its reference (size, digest, preview), as the run view shows it.
        result: s.result ?? s.result_ref ?? null,
        error: s.error ?? null,
        decision: s.decision ?? null,
        approvals: s.approvals.length ? s.approvals : null,
        attempts: s.attempts,
        startedAt: s.started_at ?? null,
        endedAt: s.ended_at ?? null,
      };
      return db
        .insert(runSteps)
        .values(row)
        .onConflictDoUpdate({
          target: [runSteps.runId, runSteps.stepId],
          set: {
            // The planner may insert steps before this one: its position moves, its id stays.
            idx: row.idx,
            status: row.status,
            args: sql`excluded.args`,
            result: sql`excluded.result`,
            error: row.error,
            decision: sql`excluded.decision`,
            approvals: sql`excluded.approvals`,
            attempts: row.attempts,
            startedAt: row.startedAt,
            endedAt: row.endedAt,
          },
        });
    }),
  ] as const;
  return statements;
}
