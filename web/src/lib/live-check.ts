import { ApiError, isMissingRoute } from './api';
import type { ErrorDetail } from './types';

/** Where the editor's live check stands. */
export type CheckState =
  | { state: 'idle' }
  | { state: 'checking' }
  | { state: 'ok'; warnings: ErrorDetail[] }
  | { state: 'invalid'; message: string; problems: ErrorDetail[] }
  /** The server has no validate endpoint: checks happen when saving. */
  | { state: 'unavailable' }
  | { state: 'error'; message: string };

/** How long typing must pause before the document is sent for checking. */
export const CHECK_DELAY_MS = 400;

/**
 * Checks a document against the API as the user types: debounced, and only the answer for the
 * latest text counts (an older, slower answer arriving late is dropped).
 */
export class LiveCheck {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #generation = 0;
  #last: string | undefined;
  #unavailable = false;

  constructor(
    private readonly check: (text: string) => Promise<{ warnings?: ErrorDetail[] }>,
    private readonly report: (state: CheckState) => void,
    private readonly delayMs = CHECK_DELAY_MS,
  ) {}

  /** The text changed: check it once typing pauses. */
  update(text: string): void {
    if (this.#unavailable || text === this.#last) return;
    this.#last = text;
    clearTimeout(this.#timer);
    const generation = ++this.#generation;
    if (text.trim() === '') {
      this.report({ state: 'idle' });
      return;
    }
    this.#timer = setTimeout(() => void this.#run(text, generation), this.delayMs);
  }

  /** Stops pending checks (leaving the page). */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#generation += 1;
  }

  async #run(text: string, generation: number): Promise<void> {
    this.report({ state: 'checking' });
    const state = await this.check(text).then(
      (ok): CheckState => ({ state: 'ok', warnings: ok.warnings ?? [] }),
      (e: unknown): CheckState => toCheckState(e),
    );
    if (generation !== this.#generation) return;
    if (state.state === 'unavailable') this.#unavailable = true;
    this.report(state);
  }
}

/** A failed check as the editor shows it: the problems with their lines, or why it could not check. */
export function toCheckState(e: unknown): CheckState {
  if (isMissingRoute(e)) return { state: 'unavailable' };
  if (e instanceof ApiError && e.status === 400) return { state: 'invalid', message: e.message, problems: e.details };
  return { state: 'error', message: e instanceof Error ? e.message : String(e) };
}

/** The problems with a line number, sorted by line: what the editor's gutter marks. */
export function markedLines(problems: ErrorDetail[]): Map<number, string[]> {
  const lines = new Map<number, string[]>();
  for (const p of problems) {
    if (!p.line) continue;
    const list = lines.get(p.line) ?? [];
    list.push(`${p.path}: ${p.message}`);
    lines.set(p.line, list);
  }
  return lines;
}
