import type { Version3Client } from 'jira.js';
import { IntegrationError } from './errors';
import { handler, type CallContext } from './executor';
import { classifyJiraError } from './jira-client';
import { keyDigest } from './markers';

/**
 * `jira.transition_issue`, made safe to deliver twice. A transition done once is usually not
 * available from the status it led to, so a blind repeat would fail a step that succeeded; and
 * the result must name the status the issue left (the compensation goes back there). The call
 * records itself in an issue property before transitioning and marks it done after: a repeat
 * reads the record and returns the first outcome, or finishes a transition a crash cut short.
 */

type Ctx = CallContext<Version3Client>;

interface TransitionRecord {
  transition_id: string;
  from: string;
  to: string;
  done: boolean;
}

const propertyKey = (digest: string): string => `agentrunbook-transition-${digest}`;

async function readRecord(client: Version3Client, issue: string, property: string): Promise<TransitionRecord | undefined> {
  try {
    const found = await client.issueProperties.getIssueProperty({ issueIdOrKey: issue, propertyKey: property });
    return found.value as TransitionRecord;
  } catch (err) {
    if (classifyJiraError(err).code === 'not_found') return undefined;
    throw err;
  }
}

async function writeRecord(client: Version3Client, issue: string, property: string, record: TransitionRecord): Promise<void> {
  await client.issueProperties.setIssueProperty({ issueIdOrKey: issue, propertyKey: property, propertyValue: record });
}

/** By id, then by name, then by the status it leads to (how compensations name it). */
async function findTransition(client: Version3Client, issue: string, wanted: string, current: string) {
  const { transitions = [] } = await client.issues.getTransitions({ issueIdOrKey: issue });
  const lower = wanted.toLowerCase();
  const found =
    transitions.find((t) => t.id === wanted) ??
    transitions.find((t) => t.name?.toLowerCase() === lower) ??
    transitions.find((t) => t.to?.name?.toLowerCase() === lower);
  if (!found?.id) {
    const available = transitions.map((t) => `"${t.name}" (→ ${t.to?.name ?? '?'})`).join(', ') || 'none';
    throw new IntegrationError('jira', 'invalid', `No transition "${wanted}" from status "${current}" of ${issue}; available: ${available}`);
  }
  return { id: found.id, to: found.to?.name ?? found.name ?? wanted };
}

export const jiraTransitionIssue = handler(async (a: { key: string; transition: string }, { client, key }: Ctx) => {
  const property = propertyKey(await keyDigest(key));
  const issue = await client.issues.getIssue({ issueIdOrKey: a.key, fields: ['status'] });
  const current = (issue.fields as { status?: { name?: string } }).status?.name ?? '';
  const outcome = (r: Pick<TransitionRecord, 'from' | 'to'>) => ({ key: a.key, transition: a.transition, previous_status: r.from, status: r.to });

  let record = await readRecord(client, a.key, property);
  if (record && (record.done || current === record.to)) {
    if (!record.done) await writeRecord(client, a.key, property, { ...record, done: true });
    return outcome(record);
  }
  if (!record) {
    // Already where it was asked to go (a compensation after someone moved it back by hand).
    if (current.toLowerCase() === a.transition.toLowerCase()) return outcome({ from: current, to: current });
    const target = await findTransition(client, a.key, a.transition, current);
    record = { transition_id: target.id, from: current, to: target.to, done: false };
    await writeRecord(client, a.key, property, record);
  }
  await client.issues.doTransition({ issueIdOrKey: a.key, transition: { id: record.transition_id } });
  await writeRecord(client, a.key, property, { ...record, done: true });
  return outcome(record);
});
