import { sha256Hex } from '../lib/crypto';

/**
 * Idempotency markers for vendors that have no idempotency keys of their own (GitHub issues,
 * comments and pull requests, Jira issues and comments, PagerDuty notes). A create carries the
 * key it is given; before creating, the executor looks for an object carrying it, so a call delivered
 * twice (a crash between the vendor's answer and the ledger's write) finds the first one's work. A
 * run's step gives the same key to all its attempts (`runId:stepId`, ToolCall.effectKey), so an
 * attempt after one that acted but failed (a 502 after the commit) finds that work too.
 */

/** The key as it appears in markers: URL-encoded, so no key can close an HTML comment early. */
const encoded = (key: string): string => encodeURIComponent(key);

/** Invisible in rendered Markdown (GitHub issue, comment and pull-request bodies). */
export const htmlMarker = (key: string): string => `<!-- agentrunbook:idempotency-key=${encoded(key)} -->`;

export function withHtmlMarker(body: string | undefined, key: string): string {
  return body ? `${body}\n\n${htmlMarker(key)}` : htmlMarker(key);
}

/** Whether `text` carries exactly this key's marker (a longer key sharing the prefix does not count). */
export const hasHtmlMarker = (text: string | null | undefined, key: string): boolean => (text ?? '').includes(htmlMarker(key));

/** What a search for the marker looks for; the hits are then checked with `hasHtmlMarker`. */
export const markerSearchTerm = (key: string): string => `agentrunbook:idempotency-key=${encoded(key)}`;

/**
 * PagerDuty notes are plain text and have no hidden fields, so the marker is a short visible
 * last line naming the call; a person reading the timeline sees which run step wrote the note.
 */
export const noteFooter = (key: string): string => `\n\n— AgentRunbook (${encoded(key)})`;

/** A short, label-safe digest of a key (Jira labels allow no spaces; properties keys are short). */
export async function keyDigest(key: string): Promise<string> {
  return (await sha256Hex(key)).slice(0, 24);
}

/** The Jira label that marks an issue created by one call. */
export const jiraCallLabel = (digest: string): string => `agentrunbook-${digest}`;
