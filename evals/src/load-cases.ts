import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { Policy } from '../../worker/policy/schema';
import { checkPolicyYaml } from '../../worker/policy/validate';
import { parseRunbook, resolveInputs } from '../../worker/runbooks';
import type { Runbook } from '../../worker/runbooks/types';
import { expectedPlanProblems } from '../../worker/shadow/expectation';
import { getTool, matchesToolPattern, toolIds } from '../../worker/tools/catalog';
import { evalCaseSchema, type EvalCase } from './case-schema';
import { markerForms } from './markers';

/** A case with everything it refers to resolved and checked. */
export interface LoadedCase {
  spec: EvalCase;
  file: string;
  runbook: Runbook;
  policy: Policy;
  /** The run's inputs after the runbook's defaults. */
  inputs: Record<string, unknown>;
}

export class CaseError extends Error {
  constructor(readonly problems: string[]) {
    super(`${problems.length} problem(s) in the evaluation cases:\n  ${problems.join('\n  ')}`);
    this.name = 'CaseError';
  }
}

/**
 * A case that names only a goal runs as a runbook without steps: the planner sees the goal, the
 * inputs and the context, and may add read-only steps. Nothing else can run, by design.
 */
function goalRunbook(name: string, goal: string): Runbook {
  return {
    apiVersion: 'agentrunbook/v1',
    kind: 'Runbook',
    metadata: { name: `goal-${name}`.slice(0, 63), labels: { source: 'eval-goal' } },
    spec: { goal, inputs: {}, triggers: [], steps: [] },
  };
}

function loadRunbook(root: string, c: EvalCase, problems: string[], where: string): Runbook | undefined {
  if (c.goal !== undefined) return goalRunbook(c.name, c.goal);
  let text: string;
  if (c.runbook !== undefined) {
    try {
      text = readFileSync(path.join(root, 'runbooks', `${c.runbook}.yaml`), 'utf8');
    } catch {
      problems.push(`${where}: runbook: no runbooks/${c.runbook}.yaml`);
      return undefined;
    }
  } else {
    text = c.runbook_yaml!;
  }
  const parsed = parseRunbook(text);
  if (!parsed.ok) {
    for (const e of parsed.errors) problems.push(`${where}: runbook ${e.path}${e.line ? ` (line ${e.line})` : ''}: ${e.message}`);
    return undefined;
  }
  return parsed.runbook;
}

const policies = new Map<string, Policy | string>();

function loadPolicy(root: string, name: string): Policy | string {
  const key = `${root}\0${name}`;
  const cached = policies.get(key);
  if (cached) return cached;
  let result: Policy | string;
  try {
    const checked = checkPolicyYaml(readFileSync(path.join(root, 'policies', `${name}.yaml`), 'utf8'));
    result = checked.ok ? checked.policy : `policies/${name}.yaml is invalid: ${checked.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`;
  } catch {
    result = `no policies/${name}.yaml`;
  }
  policies.set(key, result);
  return result;
}

const subset = (want: Record<string, unknown>, have: Record<string, unknown> | undefined): boolean =>
  have !== undefined && Object.entries(want).every(([k, v]) => JSON.stringify(have[k]) === JSON.stringify(v));

/** The checks that make an injection case meaningful: the text is really planted, and the call it asks for is one the guardrails exist to stop. */
function checkAttack(c: EvalCase, policy: Policy, where: string, problems: string[]): void {
  const attack = c.attack!;
  const tool = getTool(attack.tool);
  if (!tool) {
    problems.push(`${where}: attack.tool: unknown tool "${attack.tool}"`);
    return;
  }
  const planted = JSON.stringify({ inputs: c.inputs, context: c.context, world: c.world });
  if (!markerForms(attack.marker).some((m) => planted.includes(m))) {
    problems.push(`${where}: attack.marker: "${attack.marker}" appears nowhere in inputs, context or world: the injection is not planted`);
  }
  const allowed = policy.spec.roles[c.role]?.tools.some((p) => matchesToolPattern(p, tool.id)) ?? false;
  if (!tool.mutating && allowed) {
    problems.push(`${where}: attack.tool: ${tool.id} only reads and the policy allows it to ${c.role}; an injected read is within the guardrails, not an attack on them`);
  }
  for (const [i, e] of c.expected.entries()) {
    if (e.tool === attack.tool && (attack.args === undefined || subset(attack.args, e.args))) {
      problems.push(`${where}: attack: the injected call cannot be told apart from expected[${i}]; give attack.args that differ`);
    }
  }
}

/** Checks one parsed case; returns it resolved, or records why not. */
export function checkCase(root: string, raw: unknown, file: string, problems: string[]): LoadedCase | undefined {
  const where = path.relative(root, file) || file;
  const parsed = evalCaseSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${where}: ${issue.path.join('.') || '(case)'}: ${issue.message}`);
    return undefined;
  }
  const c = parsed.data;
  const before = problems.length;
  if (path.basename(file, '.yaml') !== c.name) problems.push(`${where}: name: must be the file's name ("${path.basename(file, '.yaml')}")`);
  const runbook = loadRunbook(root, c, problems, where);
  const policy = loadPolicy(root, c.policy);
  if (typeof policy === 'string') problems.push(`${where}: policy: ${policy}`);
  for (const p of expectedPlanProblems(c.expected)) problems.push(`${where}: ${p.path}: ${p.message}`);
  for (const [i, pattern] of c.forbidden_tools.entries()) {
    if (!toolIds().some((id) => matchesToolPattern(pattern, id))) problems.push(`${where}: forbidden_tools[${i}]: "${pattern}" matches no tool`);
  }
  for (const [i, id] of c.expect.denied.entries()) if (!getTool(id)) problems.push(`${where}: expect.denied[${i}]: unknown tool "${id}"`);
  let inputs: Record<string, unknown> = {};
  if (runbook) {
    const resolved = resolveInputs(runbook, c.inputs);
    if (resolved.ok) inputs = resolved.inputs;
    else for (const e of resolved.errors) problems.push(`${where}: inputs.${e.path.replace(/^inputs\./, '')}: ${e.message}`);
  }
  if (c.attack && typeof policy !== 'string') checkAttack(c, policy, where, problems);
  if (problems.length > before || !runbook || typeof policy === 'string') return undefined;
  return { spec: c, file, runbook, policy, inputs };
}

/** Reads and checks every case in `dir` (sorted by name); throws `CaseError` listing every problem found. */
export function loadCases(root: string, dir = path.join(root, 'evals', 'cases'), only?: (name: string) => boolean): LoadedCase[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  const problems: string[] = [];
  const cases: LoadedCase[] = [];
  for (const f of files) {
    const file = path.join(dir, f);
    let raw: unknown;
    try {
      raw = parse(readFileSync(file, 'utf8'));
    } catch (err) {
      problems.push(`${path.relative(root, file)}: not valid YAML: ${(err as Error).message}`);
      continue;
    }
    if (only && !only(path.basename(f, '.yaml'))) continue;
    const loaded = checkCase(root, raw, file, problems);
    if (loaded) cases.push(loaded);
  }
  if (problems.length > 0) throw new CaseError(problems);
  return cases;
}
