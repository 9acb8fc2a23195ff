import { getTool } from '../tools/catalog';
import { sortByLine, validateWithSchema } from '../yaml/validate';
import { checkRunbook } from './check';
import { runbookDocumentSchema, type RunbookDocument, type StepDocument } from './schema';
import type { Runbook, RunbookStep, SourceError } from './types';

export type ParseRunbookResult = { ok: true; runbook: Runbook } | { ok: false; errors: SourceError[] };

/**
 * Parses and validates runbook YAML (or JSON) as it is saved: the schema first, then the
 * semantic checks. Errors carry the field path and line; on success durations are in ms and
 * every default is filled in, so the engine never has to guess.
 */
export function parseRunbook(text: string): ParseRunbookResult {
  const validated = validateWithSchema(text, runbookDocumentSchema);
  if (!validated.ok) return { ok: false, errors: validated.errors };
  const errors = checkRunbook(validated.value, validated.source);
  if (errors.length > 0) return { ok: false, errors: sortByLine(errors) };
  return { ok: true, runbook: normalise(validated.value) };
}

function normalise(doc: RunbookDocument): Runbook {
  const { name, description, labels } = doc.metadata;
  return {
    apiVersion: doc.apiVersion,
    kind: doc.kind,
    metadata: { name, ...(description !== undefined && { description }), labels },
    spec: {
      ...(doc.spec.goal !== undefined && { goal: doc.spec.goal }),
      inputs: doc.spec.inputs,
      triggers: doc.spec.triggers,
      steps: doc.spec.steps.map(normaliseStep),
    },
  };
}

function normaliseStep(step: StepDocument): RunbookStep {
  const mutating = getTool(step.tool)?.mutating ?? false;
  return {
    id: step.id,
    tool: step.tool,
    ...(step.description !== undefined && { description: step.description }),
    ...(step.if !== undefined && { if: step.if }),
    with: step.with,
    ...(step.approval !== undefined && { approval: step.approval }),
    // `attempts` counts every try, the first included: no retry block means one try.
    retry: step.retry ? { attempts: step.retry.attempts, backoff_ms: step.retry.backoff } : { attempts: 1, backoff_ms: 0 },
    ...(step.timeout !== undefined && { timeout_ms: step.timeout }),
    ...(step.verify !== undefined && { verify: step.verify }),
    on_failure: step.on_failure ?? (mutating ? 'compensate' : 'abort'),
  };
}
