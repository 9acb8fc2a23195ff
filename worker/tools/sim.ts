import type { SimWorld } from './types';

/**
 * Helpers for simulated tools. Every made-up name and number comes from a hash of what the call
 * is about (a node, a repository, an incident), never from the clock or Math.random, so a run
 * replays identically and the same node shows the same pods to `get_node` and `drain_node`.
 */

/** 32-bit FNV-1a: tiny, stable across runtimes, and good enough to spread seeds. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** JSON with sorted object keys, so `{a, b}` and `{b, a}` hash alike. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(probability: number): boolean;
  /** `length` characters drawn from `alphabet`. */
  chars(length: number, alphabet: string): string;
}

/** A mulberry32 generator seeded from the hash of `parts`. */
export function rng(...parts: unknown[]): Rng {
  let state = fnv1a(stableJson(parts));
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    pick: <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!,
    chance: (probability) => next() < probability,
    chars: (length, alphabet) =>
      Array.from({ length }, () => alphabet[int(0, alphabet.length - 1)]).join(''),
  };
}

export const HEX = '0123456789abcdef';
export const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A fixed "now" for the simulated world; timestamps are offsets from it. */
export const SIM_EPOCH_MS = Date.UTC(2026, 0, 5, 9, 0, 0);

/** An ISO timestamp `offsetMs` after the simulated epoch (negative for the past). */
export function simTime(offsetMs: number): string {
  return new Date(SIM_EPOCH_MS + Math.round(offsetMs)).toISOString();
}

/**
 * Returns the next value of a counter kept in the world. The first call returns `base` (derived
 * from a hash by the caller, so fresh worlds do not all start at 1).
 */
export function nextCounter(world: SimWorld, key: string, base: number): number {
  const current = world.get<number>(key);
  const next = current === undefined ? base : current + 1;
  world.set(key, next);
  return next;
}

/**
 * Reads an entity from the world, or the generated default when no earlier call changed it.
 * Callers write back a new object rather than mutating, since the engine persists the world.
 */
export function readEntity<T>(world: SimWorld, key: string, generate: () => T): T {
  return world.get<T>(key) ?? generate();
}

/** A world held in memory, for tests and for dry runs outside the run engine. */
export function memoryWorld(initial: Record<string, unknown> = {}): SimWorld & { snapshot(): Record<string, unknown> } {
  const state = new Map(Object.entries(initial));
  return {
    get: <T>(key: string) => state.get(key) as T | undefined,
    set: (key, value) => void state.set(key, value),
    snapshot: () => Object.fromEntries(state),
  };
}
