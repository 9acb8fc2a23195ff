// What the fault campaign (e2e/faults.test.ts) checks on each finished run: its history, the
// tool-call ledger's keys, the audit log's starts and the vendor's side effects agree, and a run
// that was undone is undone exactly once.
import { jiraCallLabel, keyDigest } from '../worker/integrations/markers';
import type { FaultRunbook } from './faults-runbooks';
import { transitionEffect, type Vendor } from './faults-vendor';
import type { Run, RunStep } from './helpers';

/** A step as GET /runs/{id} shows it, with its integration mode and its undoing. */
export type CheckedStep = RunStep & {
  integration_mode?: string;
  compensation?: { tool: string; status: string; attempts?: number; result?: unknown; error?: string };
};
/** A run as GET /runs/{id} shows it. */
export type CheckedRun = Omit<Run, 'steps'> & { steps: CheckedStep[]; compensation_failed?: string[] };
export interface RunEventItem {
  ts: string;
  type: string;
  step?: { id: string };
}
export interface ToolCallRow {
  run_id: string;
  step_id: string;
  idempotency_key: string;
  tool: string;
  mode: string;
  error: string | null;
}

const LIVE_TOOLS = new Set(['jira.create_issue', 'jira.add_comment', 'jira.transition_issue']);
const COMPENSATE_KEY = /:compensate:\d+$/;

export interface Findings {
  /** Something happened more than once: a start, a key, an undo. */
  repeated: string[];
  /** The records disagree, or a run did not end the way its runbook must. */
  inconsistent: string[];
}

const same = (a: string[], b: string[]) => JSON.stringify([...new Set(a)].sort()) === JSON.stringify([...b].sort());

/**
 * Checks one finished run. `calls` are its rows in tool_calls; `auditStarts` counts the audit
 * log's run.step.started entries by `runId:stepId`.
 */
export async function checkRun(
  run: CheckedRun,
  events: RunEventItem[],
  calls: ToolCallRow[],
  auditStarts: Map<string, number>,
  vendor: Pick<Vendor, 'ledger' | 'fake'>,
  runbook: FaultRunbook,
): Promise<Findings> {
  const repeated: string[] = [];
  const inconsistent: string[] = [];
  const count = (type: string, step: string) => events.filter((e) => e.type === type && e.step?.id === step).length;

  for (const step of run.steps) {
    const at = `${run.id}/${step.id}`;
    // Every step started once per attempt, in the run's history and in the audit log.
    const starts = count('step.started', step.id);
    if (starts > step.attempts) repeated.push(`${at}: started ${starts} times in ${step.attempts} attempt(s)`);
    if (starts < step.attempts) inconsistent.push(`${at}: ${step.attempts} attempt(s) but ${starts} step.started event(s)`);
    const audited = auditStarts.get(`${run.id}:${step.id}`) ?? 0;
    if (audited > starts) repeated.push(`${at}: ${audited} run.step.started audit entries for ${starts} start(s)`);
    if (audited < starts) inconsistent.push(`${at}: ${starts} start(s) but ${audited} audit entries`);
    if (step.attempts > 1) inconsistent.push(`${at}: ${step.attempts} attempts where no failure was injected`);
    if (step.tool === 'core.wait') continue;

    // Exactly the keys of the step's attempts, and apart from them those of its undo's attempts.
    const own = calls.filter((c) => c.step_id === step.id).map((c) => c.idempotency_key);
    const keys = own.filter((k) => !COMPENSATE_KEY.test(k));
    const want = Array.from({ length: step.attempts }, (_, i) => `${run.id}:${step.id}:${i + 1}`);
    if (!same(keys, want)) inconsistent.push(`${at}: tool_calls keys ${JSON.stringify(keys)}, expected ${JSON.stringify(want)}`);
    const undoKeys = own.filter((k) => COMPENSATE_KEY.test(k));
    const undoAttempts = step.compensation?.status === 'succeeded' || step.compensation?.status === 'failed' ? (step.compensation.attempts ?? 0) : 0;
    const undoWant = Array.from({ length: undoAttempts }, (_, i) => `${run.id}:${step.id}:compensate:${i + 1}`);
    if (!same(undoKeys, undoWant)) inconsistent.push(`${at}: tool_calls compensation keys ${JSON.stringify(undoKeys)}, expected ${JSON.stringify(undoWant)}`);

    // A live step that acted left its side effect at the vendor (twice is caught by the ledger).
    if (LIVE_TOOLS.has(step.tool) && (step.status === 'succeeded' || step.status === 'compensated')) {
      // The vendor sees the step's mark, the same for all its attempts (ToolCall.effectKey).
      const key = `${run.id}:${step.id}`;
      const issue = (step.args as { key?: string }).key ?? '?';
      const effect =
        step.tool === 'jira.create_issue'
          ? `create ${jiraCallLabel(await keyDigest(key))}`
          : step.tool === 'jira.add_comment'
            ? `comment ${key}`
            : transitionEffect(issue, (step.result as { status?: string } | undefined)?.status ?? '?');
      if (!vendor.ledger.has(effect)) inconsistent.push(`${at}: succeeded live, but the vendor has no "${effect}"`);
      if (step.integration_mode !== 'live') inconsistent.push(`${at}: ran ${step.integration_mode}, expected live`);
    }
  }

  if (runbook.ends === 'failed') inconsistent.push(...(await checkUndone(run, events, vendor, runbook.undone ?? [])));
  return { repeated, inconsistent };
}

/**
 * A run that failed with `on_failure: compensate`: the steps it must undo are `compensated` by one
 * successful attempt (one `step.compensating`, one `step.compensated`), nothing is left for a
 * person, and an undone transition put its issue back where it was.
 */
async function checkUndone(run: CheckedRun, events: RunEventItem[], vendor: Pick<Vendor, 'ledger' | 'fake'>, undone: string[]): Promise<string[]> {
  const out: string[] = [];
  if (run.compensation_failed?.length) out.push(`${run.id}: compensation_failed ${JSON.stringify(run.compensation_failed)}`);
  const count = (type: string, step: string) => events.filter((e) => e.type === type && e.step?.id === step).length;
  for (const step of run.steps) {
    const at = `${run.id}/${step.id}`;
    if (!undone.includes(step.id)) {
      if (step.status === 'compensated' || step.compensation) out.push(`${at}: ${step.status}, compensation ${JSON.stringify(step.compensation)}: it has nothing to undo`);
      continue;
    }
    const comp = step.compensation;
    if (step.status !== 'compensated' || comp?.status !== 'succeeded') {
      out.push(`${at}: ${step.status}, compensation ${comp?.status ?? 'none'}${comp?.error ? ` (${comp.error})` : ''}, expected compensated`);
      continue;
    }
    const attempts = comp.attempts ?? 0;
    if (attempts !== 1) out.push(`${at}: undone in ${attempts} attempts where no failure was injected`);
    const begun = count('step.compensating', step.id);
    if (begun !== attempts) out.push(`${at}: ${begun} step.compensating event(s) for ${attempts} attempt(s)`);
    const ended = count('step.compensated', step.id);
    if (ended !== 1) out.push(`${at}: ${ended} step.compensated events`);
    if (step.tool !== 'jira.transition_issue') continue;
    // The way back went to the vendor, and the issue is in the status the forward step found.
    const issue = (step.args as { key: string }).key;
    const back = (comp.result as { status?: string } | undefined)?.status ?? '?';
    if (!vendor.ledger.has(transitionEffect(issue, back))) out.push(`${at}: compensated, but the vendor has no "${transitionEffect(issue, back)}"`);
    const first = (step.result as { previous_status?: string } | undefined)?.previous_status;
    const now = vendor.fake.issues.get(issue)?.status;
    if (now !== first) out.push(`${at}: ${issue} is "${now}" at the vendor, expected back in "${first}"`);
  }
  return out;
}

/** When the run was undoing its steps (from `run.compensating` to its end), in ms since the epoch. */
export function compensationWindow(events: RunEventItem[]): [number, number] | undefined {
  const from = events.find((e) => e.type === 'run.compensating');
  const end = events.findLast((e) => e.type === 'run.failed' || e.type === 'run.succeeded' || e.type === 'run.cancelled' || e.type === 'run.denied');
  return from && end ? [Date.parse(from.ts), Date.parse(end.ts)] : undefined;
}
