// The fault campaign's vendor (e2e/faults.test.ts): the fake Jira behind a wrapper that keeps a
// ledger of every side effect it performed and holds some calls open for a while, so that a kill of
// the platform lands while the call is in flight — the engine awaits its calls outside the run's
// lock, so a kill there leaves a call with no recorded outcome that a restart must deliver again.
import { serve, type Served } from '../test/fakes/fake-server';
import { createJiraFake, type FakeIssue, type JiraFake } from '../test/fakes/jira-server';

/** Why a call is held open: a forward call of a `faults-slow` run, or the undo of a `faults-undo` run. */
export type SlowKind = 'call' | 'compensation';

/** One call the wrapper held open, and when (ms since the epoch). */
export interface SlowCall {
  kind: SlowKind;
  what: string;
  /** `before`: the vendor waits, then acts; `after`: it acts, then the answer waits (the kill loses it). */
  phase: 'before' | 'after';
  start: number;
  end: number;
}

/** Issues whose summary starts so get their create and comment held 1.5–3 s. */
export const SLOW_SUMMARY = 'Slow ';
/** Issues whose summary starts so get the transition back to `To Do` (their undo) held 1–2 s. */
export const UNDO_SUMMARY = 'Undo ';
const SLOW_CALL_MS: [number, number] = [1_500, 3_000];
const SLOW_UNDO_MS: [number, number] = [1_000, 2_000];

export interface Vendor {
  fake: JiraFake;
  served: Served;
  /**
   * Every side effect performed (a mutating request answered 2xx), keyed by the marker the live
   * executor sends for idempotency: the step's label on a created issue, the step's key in a
   * comment's property. A transition carries no marker of its own (the executor's issue-property
   * record is bookkeeping, written again by a re-delivery by design), but each issue here is created
   * by one step of one run and each of its transitions leads to another status, so the issue and
   * the status it went to identify the call: `transition OPS-7 → In Progress` (forward) and
   * `transition OPS-7 → To Do` (its undo) are two entries.
   */
  ledger: Map<string, number>;
  /** Every call held open, in the order they started. */
  slow: SlowCall[];
  readonly requests: number;
  /** Requests the wrapper is answering right now, held open or not. */
  readonly inFlight: number;
  /** The held-open calls of this kind in flight right now. */
  slowInFlight(kind?: SlowKind): SlowCall[];
  /**
   * A held-open call of this kind with at least `minLeftMs` to go: one in flight now, or the next
   * to start within `timeoutMs` (undefined when none does).
   */
  nextSlow(kind: SlowKind, minLeftMs: number, timeoutMs: number): Promise<SlowCall | undefined>;
}

export const transitionEffect = (issue: string, status: string): string => `transition ${issue} → ${status}`;

async function sideEffectOf(req: Request, pathname: string, issueAfter: (key: string) => FakeIssue | undefined): Promise<string | undefined> {
  if (req.method === 'POST' && pathname === '/rest/api/3/issue') {
    const body = (await req.json()) as { fields?: { labels?: string[] } };
    const marker = body.fields?.labels?.find((l) => l.startsWith('agentrunbook-'));
    return `create ${marker ?? '(no marker)'}`;
  }
  const comment = /^\/rest\/api\/3\/issue\/([^/]+)\/comment$/.exec(pathname);
  if (req.method === 'POST' && comment) {
    const body = (await req.json()) as { properties?: { key: string; value?: { idempotency_key?: string } }[] };
    const marker = body.properties?.find((p) => p.key === 'agentrunbook')?.value?.idempotency_key;
    return `comment ${marker ?? '(no marker)'}`;
  }
  const transition = /^\/rest\/api\/3\/issue\/([^/]+)\/transitions$/.exec(pathname);
  if (req.method === 'POST' && transition) return transitionEffect(transition[1]!, issueAfter(transition[1]!)?.status ?? '?');
  return undefined;
}

/**
 * `rand` draws each held call's length and phase; it is the vendor's own stream, so the order in
 * which requests happen to arrive does not move the campaign's schedule of runbooks and kills.
 */
export async function startVendor(credentials: { email: string; apiToken: string }, rand: () => number): Promise<Vendor> {
  const fake = createJiraFake({ ...credentials, projects: ['OPS'] });
  const ledger = new Map<string, number>();
  const slow: SlowCall[] = [];
  const waiters = new Set<(s: SlowCall) => void>();
  let requests = 0;
  let inFlight = 0;
  const issue = (key: string) => fake.issues.get(key) ?? [...fake.issues.values()].find((i) => i.id === key);
  const between = ([lo, hi]: [number, number]) => Math.round(lo + rand() * (hi - lo));

  /** How long to hold this request, and why; undefined for most. */
  async function holdFor(req: Request, pathname: string): Promise<{ kind: SlowKind; what: string; ms: number } | undefined> {
    if (req.method !== 'POST') return undefined;
    if (pathname === '/rest/api/3/issue') {
      const summary = ((await req.json()) as { fields?: { summary?: string } }).fields?.summary ?? '';
      return summary.startsWith(SLOW_SUMMARY) ? { kind: 'call', what: `create "${summary}"`, ms: between(SLOW_CALL_MS) } : undefined;
    }
    const comment = /^\/rest\/api\/3\/issue\/([^/]+)\/comment$/.exec(pathname);
    if (comment && issue(comment[1]!)?.summary.startsWith(SLOW_SUMMARY)) return { kind: 'call', what: `comment on ${comment[1]}`, ms: between(SLOW_CALL_MS) };
    const transition = /^\/rest\/api\/3\/issue\/([^/]+)\/transitions$/.exec(pathname);
    if (transition && issue(transition[1]!)?.summary.startsWith(UNDO_SUMMARY)) {
      // Only the way back: in this fake's workflow the one transition to `To Do` has id 11.
      const id = ((await req.json()) as { transition?: { id?: string } }).transition?.id;
      if (id === '11') return { kind: 'compensation', what: `transition ${transition[1]} back to To Do`, ms: between(SLOW_UNDO_MS) };
    }
    return undefined;
  }

  const served = await serve(async (request) => {
    requests++;
    inFlight++;
    try {
      const pathname = new URL(request.url).pathname;
      const hold = await holdFor(request.clone(), pathname);
      const held = hold ? { ...hold, phase: rand() < 0.5 ? ('before' as const) : ('after' as const), start: Date.now(), end: Date.now() + hold.ms } : undefined;
      if (held) {
        const call: SlowCall = { kind: held.kind, what: held.what, phase: held.phase, start: held.start, end: held.end };
        slow.push(call);
        for (const w of waiters) w(call);
      }
      if (held?.phase === 'before') await new Promise((r) => setTimeout(r, held.ms));
      const copy = request.clone();
      const response = await fake.handler(request);
      if (response.ok) {
        const effect = await sideEffectOf(copy, pathname, issue);
        if (effect) ledger.set(effect, (ledger.get(effect) ?? 0) + 1);
      }
      if (held?.phase === 'after') await new Promise((r) => setTimeout(r, held.ms));
      return response;
    } finally {
      inFlight--;
    }
  });

  const slowInFlight = (kind?: SlowKind) => {
    const now = Date.now();
    return slow.filter((s) => s.start <= now && now < s.end && (kind === undefined || s.kind === kind));
  };

  return {
    fake,
    served,
    ledger,
    slow,
    get requests() {
      return requests;
    },
    get inFlight() {
      return inFlight;
    },
    slowInFlight,
    nextSlow(kind, minLeftMs, timeoutMs) {
      const now = slowInFlight(kind).find((s) => s.end - Date.now() >= minLeftMs);
      if (now) return Promise.resolve(now);
      return new Promise((resolve) => {
        const done = (s: SlowCall | undefined) => {
          clearTimeout(timer);
          waiters.delete(onSlow);
          resolve(s);
        };
        const onSlow = (s: SlowCall) => {
          if (s.kind === kind && s.end - s.start >= minLeftMs) done(s);
        };
        const timer = setTimeout(() => done(undefined), timeoutMs);
        waiters.add(onSlow);
      });
    },
  };
}
