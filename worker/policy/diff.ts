import { createTwoFilesPatch, FILE_HEADERS_ONLY, formatPatch } from 'diff';
import { canonicalJson } from '../lib/crypto';
import type { Policy, PolicyLimit } from './schema';

export interface FieldChange {
  /** Dotted path inside the role, rule, limit or budgets, e.g. `approval.count` or `per_run.max_steps`. */
  field: string;
  before?: unknown;
  after?: unknown;
}

export interface PolicyChange {
  kind: 'metadata' | 'role' | 'rule' | 'budgets' | 'limit';
  change: 'added' | 'removed' | 'changed';
  /** The role or rule name, or the limit's name (its tool patterns when it has none). */
  name?: string;
  /** For `changed`: each field that differs, with both values. */
  fields?: FieldChange[];
  message: string;
}

/**
 * What changes, in the policy's own terms, going from `from` to `to`. Roles and rules are matched
 * by name and limits by name or tool set, so reordering is not a change (decide() applies every
 * matching rule whatever its place); each change names the fields that differ.
 */
export function diffPolicies(from: Policy, to: Policy): PolicyChange[] {
  const changes: PolicyChange[] = [];
  const meta = fieldChanges(from.metadata, to.metadata);
  if (meta.length) changes.push({ kind: 'metadata', change: 'changed', fields: meta, message: `Metadata changed: ${names(meta)}` });

  changes.push(...keyed('role', from.spec.roles, to.spec.roles));
  changes.push(...keyed('rule', byName(from.spec.rules, (r) => r.name), byName(to.spec.rules, (r) => r.name)));

  const budgets = fieldChanges(from.spec.budgets, to.spec.budgets);
  if (budgets.length) changes.push({ kind: 'budgets', change: 'changed', fields: budgets, message: `Budgets changed: ${budgets.map(describe).join(', ')}` });

  changes.push(...keyed('limit', byName(from.spec.limits, limitKey), byName(to.spec.limits, limitKey)));
  return changes;
}

const LABEL = { role: 'Role', rule: 'Rule', limit: 'Limit' } as const;

function keyed(kind: 'role' | 'rule' | 'limit', before: Record<string, unknown>, after: Record<string, unknown>): PolicyChange[] {
  const out: PolicyChange[] = [];
  for (const name of Object.keys(before)) {
    if (!Object.hasOwn(after, name)) out.push({ kind, change: 'removed', name, message: `${LABEL[kind]} "${name}" removed` });
  }
  for (const [name, value] of Object.entries(after)) {
    if (!Object.hasOwn(before, name)) {
      out.push({ kind, change: 'added', name, message: `${LABEL[kind]} "${name}" added` });
      continue;
    }
    const fields = fieldChanges(before[name], value);
    if (fields.length) out.push({ kind, change: 'changed', name, fields, message: `${LABEL[kind]} "${name}" changed: ${fields.map(describe).join(', ')}` });
  }
  return out;
}

/** Entries keyed by name; a repeated name (possible in versions stored before names had to be unique) gets `#2`, `#3`. */
function byName<T>(items: readonly T[], key: (item: T) => string): Record<string, T> {
  // No prototype: a limit named "__proto__" is a key like any other.
  const out = Object.create(null) as Record<string, T>;
  for (const item of items) {
    let name = key(item);
    for (let n = 2; Object.hasOwn(out, name); n++) name = `${key(item)}#${n}`;
    out[name] = item;
  }
  return out;
}

/** A limit is the same limit when its name, or failing that its set of tool patterns, is the same. */
function limitKey(limit: PolicyLimit): string {
  return limit.name ?? [...limit.tools].sort().join(', ');
}

/**
 * The leaves that differ between two plain values. Objects are walked key by key; arrays and
 * scalars compare whole (a role's `tools` list is one field: which patterns it gained and lost is
 * plain from `before` and `after`).
 */
function fieldChanges(before: unknown, after: unknown, prefix = ''): FieldChange[] {
  if (isObject(before) && isObject(after)) {
    const out: FieldChange[] = [];
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      out.push(...fieldChanges(before[key], after[key], prefix ? `${prefix}.${key}` : key));
    }
    return out;
  }
  if (canonicalJson(before ?? null) === canonicalJson(after ?? null)) return [];
  const change: FieldChange = { field: prefix || '(value)' };
  if (before !== undefined) change.before = before;
  if (after !== undefined) change.after = after;
  return [change];
}

function describe(f: FieldChange): string {
  const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));
  return `${f.field} ${show(f.before)} → ${show(f.after)}`;
}

function names(fields: FieldChange[]): string {
  return fields.map((f) => f.field).join(', ');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Beyond this many differing lines the line diff stops searching and shows a full replacement. */
const MAX_EDIT_LENGTH = 2000;

/**
 * A unified diff of two YAML documents. The edit search is bounded (documents are at most 256 KiB,
 * and Myers' algorithm is quadratic in the worst case); past the bound the diff replaces every line,
 * which is still a correct patch.
 */
export function unifiedDiff(fromName: string, fromText: string, toName: string, toText: string): string {
  const patch = createTwoFilesPatch(fromName, toName, fromText, toText, undefined, undefined, {
    context: 3,
    maxEditLength: MAX_EDIT_LENGTH,
    headerOptions: FILE_HEADERS_ONLY,
  });
  if (patch !== undefined) return patch;
  const oldLines = splitLines(fromText);
  const newLines = splitLines(toText);
  return formatPatch({
    oldFileName: fromName,
    newFileName: toName,
    oldHeader: undefined,
    newHeader: undefined,
    hunks: [
      {
        oldStart: 1,
        oldLines: oldLines.length,
        newStart: 1,
        newLines: newLines.length,
        lines: [...oldLines.map((l) => `-${l}`), ...newLines.map((l) => `+${l}`)],
      },
    ],
  }, FILE_HEADERS_ONLY);
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
