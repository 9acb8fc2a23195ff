import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/**
 * Parses a duration such as `30s`, `5m`, `1h30m` or `250ms` into milliseconds.
 * Returns undefined for anything else, so callers can report the field that was wrong.
 */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const m = PART.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * UNITS[m[2]!]!;
  }
  return Math.round(total);
}

/**
 * A duration argument in runbook notation (`30s`, `5m`, `1h30m`), validated with the same
 * parser the run engine uses, so a value accepted here is one the engine can schedule.
 */
export function durationArg(max: string) {
  const maxMs = parseDuration(max) ?? 0;
  return z
    .string()
    .refine((text) => parseDuration(text) !== undefined, {
      message: 'expected a duration such as "30s", "5m" or "1h30m"',
    })
    .refine((text) => (parseDuration(text) ?? 0) <= maxMs, {
      message: `must be at most ${max}`,
    });
}
