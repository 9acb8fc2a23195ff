import { and, desc, eq, inArray, isNotNull, ne } from 'drizzle-orm';
import type { PastRun } from '../agents';
import type { DB } from '../db/client';
import { runSteps, runs } from '../db/schema';

/** How many earlier runs the planner is shown, and how much of each. */
const MAX_RUNS = 5;
const MAX_STEPS_PER_RUN = 5;
const MAX_TEXT = 300;

function trim(text: string | null | undefined): string | undefined {
  if (!text) return undefined;
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT)}…`;
}

/**
 * How the last finished runs of a runbook ended, newest first: the outcome, and the steps that
 * failed or were denied with why. Tenant-scoped and bounded (two indexed queries), so it costs
 * the same however long the tenant's history is. Error texts can quote tool output: the planner
 * receives them as data, never as instructions.
 */
export async function loadRunHistory(db: DB, tenantId: string, runbookName: string, excludeRunId: string): Promise<PastRun[]> {
  const past = await db
    .select({ id: runs.id, status: runs.status, reason: runs.reason })
    .from(runs)
    .where(and(eq(runs.tenantId, tenantId), eq(runs.runbookName, runbookName), ne(runs.id, excludeRunId), isNotNull(runs.endedAt)))
    .orderBy(desc(runs.createdAt))
    .limit(MAX_RUNS);
  if (past.length === 0) return [];
  const troubled = await db
    .select({ runId: runSteps.runId, id: runSteps.stepId, tool: runSteps.tool, status: runSteps.status, error: runSteps.error })
    .from(runSteps)
    .where(and(eq(runSteps.tenantId, tenantId), inArray(runSteps.runId, past.map((r) => r.id)), inArray(runSteps.status, ['failed', 'denied'])))
    .orderBy(runSteps.runId, runSteps.idx)
    .limit(MAX_RUNS * MAX_STEPS_PER_RUN * 4);
  return past.map((r) => {
    const steps = troubled
      .filter((s) => s.runId === r.id)
      .slice(0, MAX_STEPS_PER_RUN)
      .map((s) => ({ id: s.id, tool: s.tool, status: s.status, ...(trim(s.error) && { error: trim(s.error)! }) }));
    const reason = trim(r.reason);
    return { id: r.id, status: r.status, ...(reason && { reason }), ...(steps.length > 0 && { steps }) };
  });
}
