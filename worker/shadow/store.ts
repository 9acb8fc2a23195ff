import { and, eq, isNull } from 'drizzle-orm';
import { auditAppend } from '../audit/append';
import type { DB } from '../db/client';
import type { Env } from '../env';
import { SHADOW_SCORE_ACTION } from '../store/analytics';
import type { ExpectedStep } from './align';
import type { ShadowExpectation } from './expectation';
import { TERMINAL_RUN, type RunView } from '../runs/types';
import { shadowReport, type ShadowReport } from './report';
import { shadowExpectations } from './tables';

/**
 * Stores what a new shadow run will be compared with; call it before the run starts. False when
 * the run has one already (a request racing with the same Idempotency-Key stored it first).
 */
export async function saveExpectation(db: DB, tenantId: string, runId: string, expectation: ShadowExpectation): Promise<boolean> {
  const result = await db
    .insert(shadowExpectations)
    .values({ tenantId, runId, expected: expectation.expected, referenceRun: expectation.reference_run ?? null })
    .onConflictDoNothing();
  return result.meta.changes > 0;
}

export interface StoredExpectation extends ShadowExpectation {
  score: number | null;
}

export async function loadExpectation(db: DB, tenantId: string, runId: string): Promise<StoredExpectation | undefined> {
  const [row] = await db
    .select()
    .from(shadowExpectations)
    .where(and(eq(shadowExpectations.tenantId, tenantId), eq(shadowExpectations.runId, runId)))
    .limit(1);
  if (!row) return undefined;
  return {
    source: row.referenceRun ? 'reference_run' : 'expected',
    expected: row.expected as ExpectedStep[],
    ...(row.referenceRun ? { reference_run: row.referenceRun } : {}),
    score: row.score,
  };
}

/**
 * Records the final score of an ended shadow run, once. The audit entry the analytics chart reads
 * (`run.shadow.scored`, `data.score`) goes first, under a source key that makes any repeat of it
 * a no-op; then the score is stored, which stops later reads from trying again. A crash between
 * the two only means the next read repeats the (idempotent) append.
 */
export async function recordScore(env: Env, db: DB, tenantId: string, report: ShadowReport): Promise<void> {
  if (!report.complete) return;
  await auditAppend(env, tenantId, [
    {
      actor: { type: 'system', id: 'shadow' },
      action: SHADOW_SCORE_ACTION,
      resource: { type: 'run', id: report.run_id },
      data: { score: report.score, exact: report.exact, source: report.source, summary: report.summary, violations: report.violations.length },
      source_key: `shadow-score:${report.run_id}`,
    },
  ]);
  await db
    .update(shadowExpectations)
    .set({ score: report.score, scoredAt: new Date().toISOString() })
    .where(and(eq(shadowExpectations.tenantId, tenantId), eq(shadowExpectations.runId, report.run_id), isNull(shadowExpectations.score)));
}

/**
 * For the run's Durable Object, when a run has ended: records the score of a shadow run that has
 * an expectation, once, so the analytics trend does not depend on someone opening the report. One
 * indexed D1 read for any other run; safe to call again (a recorded score is not recorded twice).
 */
export async function recordFinalScore(env: Env, db: DB, tenantId: string, run: Pick<RunView, 'id' | 'mode' | 'status' | 'steps' | 'hallucinations'>): Promise<void> {
  if (run.mode !== 'shadow' || !TERMINAL_RUN.has(run.status)) return;
  const expectation = await loadExpectation(db, tenantId, run.id);
  if (!expectation || expectation.score !== null) return;
  await recordScore(env, db, tenantId, shadowReport(run, expectation));
}
