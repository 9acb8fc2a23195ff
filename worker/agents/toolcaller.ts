import { canonicalJson } from '../lib/crypto';
import type { CelVars } from '../cel';
import { argumentNames, resolveStepArgs } from '../runbooks/tool-args';
import { getTool } from '../tools/catalog';
import type { AgentError } from './errors';
import { toolBrief } from './allowed-tools';
import { TOOLCALLER } from './prompts';
import type { Provider } from './provider';
import { dataBlock } from './quote';
import { callAgent, type AgentTrace } from './trace';

export interface ToolcallerInput {
  /** The step as planned: a runbook step's templated `with`, or an added step's concrete arguments. */
  step: { id: string; tool: string; with: Record<string, unknown> };
  /** What templates see: `inputs`, `context`, `run`, `steps.<id>.result`. */
  vars: CelVars;
  goal?: string;
  signal?: AbortSignal;
}

/** An argument the model tried to change although the template fixed it; the template's value was kept. */
export interface ArgRejection {
  kind: 'changed_fixed_arg';
  step_id: string;
  tool: string;
  arg: string;
  reason: string;
}

export type FillOutcome =
  | { ok: true; args: Record<string, unknown>; hallucinations: ArgRejection[]; trace?: AgentTrace }
  /** `error` reads like the engine's own argument errors; `agentError` is set when the provider failed. */
  | { ok: false; error: string; agentError?: AgentError; trace?: AgentTrace };

/**
 * The arguments of one call. Templates are resolved deterministically first; what they fix, the
 * model cannot change. The model is asked only when the tool has arguments the template leaves
 * open, and its answer is parsed by the tool's own schema. No model call (and no trace) when there
 * is nothing to fill, so a fully templated step costs nothing.
 */
export async function fillArgs(provider: Provider, input: ToolcallerInput): Promise<FillOutcome> {
  const tool = getTool(input.step.tool);
  if (!tool) return { ok: false, error: `unknown tool "${input.step.tool}"` };
  const resolved = resolveStepArgs({ tool: tool.id, with: input.step.with }, input.vars);
  if (!resolved.ok) return resolved;
  const fixed = Object.keys(input.step.with);
  const open = argumentNames(tool).filter((name) => !fixed.includes(name));
  if (open.length === 0) return { ok: true, args: resolved.args, hallucinations: [] };

  const fixedArgs = Object.fromEntries(fixed.map((k) => [k, resolved.args[k]]));
  const { steps, ...rest } = input.vars;
  const called = await callAgent(
    'toolcaller',
    provider,
    TOOLCALLER,
    {
      messages: [
        {
          role: 'user',
          content: [
            `Complete the arguments of step "${input.step.id}", a call of ${tool.id}. Open arguments: ${open.join(', ')}.`,
            dataBlock('tool', toolBrief([tool.id])[0]),
            dataBlock('fixed_arguments', fixedArgs),
            ...(input.goal ? [dataBlock('goal', input.goal)] : []),
            dataBlock('inputs_and_context', rest),
            dataBlock('results', steps ?? {}, 12_000),
            'Answer with the complete arguments.',
          ].join('\n\n'),
        },
      ],
      schema: tool.args,
      schemaName: `args_${tool.id.replace(/\./g, '_')}`,
      description: `The arguments of ${tool.id}`,
      stub: () => resolved.args,
      ...(input.signal && { signal: input.signal }),
    },
    input.step.id,
  );
  if (!called.ok) return { ok: false, error: `Tool caller failed: ${called.error.message}`, agentError: called.error, trace: called.trace };

  const answer = called.output as Record<string, unknown>;
  const hallucinations: ArgRejection[] = [];
  for (const key of fixed) {
    if (key in answer && canonicalJson(answer[key]) !== canonicalJson(resolved.args[key])) {
      hallucinations.push({ kind: 'changed_fixed_arg', step_id: input.step.id, tool: tool.id, arg: key, reason: `The template fixes "${key}"; the model's value was discarded` });
    }
  }
  const merged = tool.args.safeParse({ ...answer, ...fixedArgs });
  if (!merged.success) return { ok: false, error: `with: ${merged.error.issues.map((i) => i.message).join('; ')}`, trace: called.trace };
  return { ok: true, args: merged.data as Record<string, unknown>, hallucinations, trace: called.trace };
}
