import { compileCel, memberNames, type CelExpr } from '../cel';
import type { Role } from '../env';
import type { SourceError } from '../runbooks/types';
import { matchesToolPattern, toolIds } from '../tools/catalog';
import { validateWithSchema } from '../yaml';
import { didYouMean } from '../yaml/did-you-mean';
import { formatPath, type SourcePath } from '../yaml/path';
import type { ParsedYaml } from '../yaml/parse';
import { policySchema, type Policy } from './schema';

/** What a rule's `when` can read (DESIGN §4, §13); decide() binds exactly these. */
export const RULE_VARIABLES = ['context', 'tool', 'args', 'actor', 'run', 'target', 'tenant', 'now'] as const;

/**
 * Variables a tightening rule can rest on: what the server knows (the target's labels, the tenant's
 * schedule, the clock, the credential's actor) and what the call itself is (its arguments, its run).
 * `context` is the caller's claim and `tool` says what kind of call it is, not where it lands.
 */
const GROUNDED_VARIABLES = ['target', 'tenant', 'now', 'actor', 'args', 'run'];

/**
 * Fields of the variables whose shape the platform fixes. Reading another field fails at every
 * evaluation, and a failing rule denies (fails closed), so it is an error when the policy is saved.
 * `context` and `args` are free-form: the caller and the tool decide what they hold.
 */
const FIXED_FIELDS: Record<string, readonly string[]> = {
  tool: ['id', 'mutating', 'risk'],
  actor: ['type', 'id', 'role'],
  run: ['id', 'runbook', 'mode'],
  target: ['kind', 'name', 'registered', 'live', 'labels'],
  tenant: ['time_zone', 'business_hours', 'change_freezes'],
  now: ['utc', 'date', 'time', 'hour', 'weekday', 'business_hours', 'change_freeze', 'change_freeze_name'],
};

/** The roles an API key or a sign-in can carry; a policy role with another name is never used. */
const CALLER_ROLES: readonly Role[] = ['viewer', 'operator', 'sre', 'admin'];

/** Who approves a `require_approval` rule that names nobody (decide()'s default). */
const DEFAULT_APPROVERS = ['sre', 'admin'];

export type PolicyCheck =
  | { ok: true; policy: Policy; warnings: SourceError[] }
  | { ok: false; errors: SourceError[]; warnings: SourceError[] };

/**
 * Validates policy YAML: the schema, then what a schema cannot say — every `when` compiles and
 * reads only what decide() provides, rule names are unique, approvers are roles of this policy that
 * may approve. Errors stop the policy from being stored; warnings (tool patterns that match no
 * tool, guards that cannot work as written) are shown to the author but do not block.
 */
export function checkPolicyYaml(text: string): PolicyCheck {
  const parsed = validateWithSchema(text, policySchema);
  if (!parsed.ok) return { ok: false, errors: parsed.errors, warnings: [] };
  const { errors, warnings } = checkPolicy(parsed.value, parsed.source);
  return errors.length ? { ok: false, errors, warnings } : { ok: true, policy: parsed.value, warnings };
}

/** The semantic checks of a policy that already passed its schema; both lists sorted by line. */
export function checkPolicy(policy: Policy, source: Pick<ParsedYaml, 'lineOf'>): { errors: SourceError[]; warnings: SourceError[] } {
  const errors: SourceError[] = [];
  const warnings: SourceError[] = [];
  const at = (list: SourceError[]) => (path: SourcePath, message: string) => list.push({ path: formatPath(path), line: source.lineOf(path), message });
  const error = at(errors);
  const warn = at(warnings);
  const { roles, rules, limits } = policy.spec;
  const roleNames = Object.keys(roles);

  for (const [name, role] of Object.entries(roles)) {
    if (!(CALLER_ROLES as readonly string[]).includes(name)) {
      warn(['spec', 'roles', name], `no API key or sign-in can hold role "${name}"${didYouMean(name, CALLER_ROLES)}; callers have one of ${CALLER_ROLES.join(', ')}`);
    }
    role.tools.forEach((pattern, j) => checkPattern(pattern, ['spec', 'roles', name, 'tools', j], warn));
  }
  for (const name of CALLER_ROLES) {
    if (!Object.hasOwn(roles, name)) warn(['spec', 'roles'], `role "${name}" is not defined: callers with it are denied every tool`);
  }
  limits.forEach((limit, i) => limit.tools.forEach((pattern, j) => checkPattern(pattern, ['spec', 'limits', i, 'tools', j], warn)));

  const seen = new Map<string, number>();
  rules.forEach((rule, i) => {
    const path: SourcePath = ['spec', 'rules', i];
    const first = seen.get(rule.name);
    if (first !== undefined) error([...path, 'name'], `duplicate rule name "${rule.name}" (first used by spec.rules[${first}]); decisions name rules, so names must be unique`);
    else seen.set(rule.name, i);

    for (const problem of checkWhen(rule.when)) (problem.warning ? warn : error)([...path, 'when'], problem.message);
    if (rule.effect !== 'allow' && restsOnContextOnly(rule.when)) {
      warn(
        [...path, 'when'],
        `this ${rule.effect} rule reads context but no trusted fact: context is what the caller asserts, so leaving the claim out dodges the rule; base it on target, tenant or now (see README, "What a policy may believe")`,
      );
    }

    if (rule.effect === 'require_approval') {
      const approvers = rule.approval?.roles ?? DEFAULT_APPROVERS;
      approvers.forEach((name, j) => {
        // Without an `approval` block the default approvers apply; point at the effect that implies them.
        const where: SourcePath = rule.approval ? [...path, 'approval', 'roles', j] : [...path, 'effect'];
        const implied = rule.approval ? '' : ' (the default approvers of require_approval; name them in approval.roles)';
        if (!Object.hasOwn(roles, name)) error(where, `approval role "${name}" is not a role of this policy${implied}${didYouMean(name, roleNames)}`);
        else if (!roles[name]!.approve) error(where, `role "${name}" cannot approve: set approve: true on it, or name another role`);
      });
    } else if (rule.approval) {
      warn([...path, 'approval'], `approval is ignored: the rule's effect is ${rule.effect}, not require_approval`);
    }
    if (rule.effect === 'allow') {
      warn([...path, 'effect'], 'an allow rule never loosens a decision: deny and require_approval from roles and other rules still win');
    }
  });
  return { errors: byLine(errors), warnings: byLine(warnings) };
}

export interface Problem {
  message: string;
  warning?: boolean;
}

/** Problems with one rule condition; errors unless marked as warnings. */
export function checkWhen(expr: string): Problem[] {
  const compiled = compileCel(expr);
  if (!compiled.ok) return [{ message: `invalid expression: ${compiled.error}` }];
  const { ast, variables } = compiled.program;
  const problems: Problem[] = [];
  for (const name of variables) {
    if (!(RULE_VARIABLES as readonly string[]).includes(name)) {
      problems.push({ message: `unknown variable "${name}"${didYouMean(name, RULE_VARIABLES)}; rules can use ${RULE_VARIABLES.join(', ')}` });
    }
  }
  for (const [variable, fields] of Object.entries(FIXED_FIELDS)) {
    if (!variables.includes(variable)) continue;
    for (const field of memberNames(ast, variable)) {
      if (!fields.includes(field)) problems.push({ message: `${variable} has no field "${field}"${didYouMean(field, fields)}; it has ${fields.join(', ')}` });
    }
  }
  // Keys of free-form maps: a key that is absent makes the read fail, and a failing rule denies.
  const maps: [string, string, (n: CelExpr | undefined) => boolean][] = [
    ['context', 'a call whose context lacks it', isIdent('context')],
    ['target.labels', 'a target without that label', isLabels],
  ];
  for (const [prefix, who, isMap] of maps) {
    const { read, tested } = mapAccess(ast, isMap);
    for (const key of read) {
      if (!tested.has(key)) {
        problems.push({ warning: true, message: `reads ${prefix}.${key} without has(${prefix}.${key}): ${who} makes this rule fail, and a failing rule denies` });
      }
    }
  }
  return problems;
}

/** A condition that reads `context` and nothing the server vouches for (GROUNDED_VARIABLES). */
export function restsOnContextOnly(expr: string): boolean {
  const compiled = compileCel(expr);
  if (!compiled.ok) return false;
  const vars = compiled.program.variables;
  return vars.includes('context') && !vars.some((v) => GROUNDED_VARIABLES.includes(v));
}

const isIdent = (name: string) => (n: CelExpr | undefined) => n?.exprKind.case === 'identExpr' && n.exprKind.value.name === name;

/** `target.labels` */
function isLabels(n: CelExpr | undefined): boolean {
  return n?.exprKind.case === 'selectExpr' && n.exprKind.value.field === 'labels' && isIdent('target')(n.exprKind.value.operand);
}

function checkPattern(pattern: string, path: SourcePath, warn: (path: SourcePath, message: string) => void): void {
  const ids = toolIds();
  if (ids.some((id) => matchesToolPattern(pattern, id))) return;
  warn(path, `tool pattern "${pattern}" matches no tool in the catalog${pattern.includes('*') ? '' : didYouMean(pattern, ids)}`);
}

/** `<map>.<key>` reads of one free-form map, and the keys tested with `has(<map>.<key>)`. */
function mapAccess(ast: CelExpr, isMap: (n: CelExpr | undefined) => boolean): { read: Set<string>; tested: Set<string> } {
  const read = new Set<string>();
  const tested = new Set<string>();
  visit(ast, (node) => {
    if (node.exprKind.case !== 'selectExpr') return;
    const { operand, field, testOnly } = node.exprKind.value;
    if (isMap(operand)) (testOnly ? tested : read).add(field);
  });
  return { read, tested };
}

/** Every node of an expression tree, depth first. */
function visit(expr: CelExpr | undefined, fn: (node: CelExpr) => void): void {
  if (!expr) return;
  fn(expr);
  const kind = expr.exprKind;
  switch (kind.case) {
    case 'selectExpr':
      visit(kind.value.operand, fn);
      break;
    case 'callExpr':
      visit(kind.value.target, fn);
      for (const arg of kind.value.args) visit(arg, fn);
      break;
    case 'listExpr':
      for (const element of kind.value.elements) visit(element, fn);
      break;
    case 'structExpr':
      for (const entry of kind.value.entries) {
        if (entry.keyKind.case === 'mapKey') visit(entry.keyKind.value, fn);
        visit(entry.value, fn);
      }
      break;
    case 'comprehensionExpr':
      for (const part of [kind.value.iterRange, kind.value.accuInit, kind.value.loopCondition, kind.value.loopStep, kind.value.result]) visit(part, fn);
      break;
  }
}

function byLine(list: SourceError[]): SourceError[] {
  return [...list].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}
