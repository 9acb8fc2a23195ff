import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AgentError, createProvider, loadAgentConfig, type AgentSettings, type Provider, type ProviderName, type StructuredRequest, type StructuredResult } from '../../worker/agents';
import { canonicalJson, sha256Hex } from '../../worker/lib/crypto';

/**
 * Where the agents' answers come from during an evaluation:
 * - `stub`: the deterministic planner (the default; no key, no network, no cost);
 * - `openai` / `anthropic`: the configured model (LLM_MODEL, OPENAI_API_KEY, OPENAI_BASE_URL,
 *   ANTHROPIC_API_KEY, … exactly as the Worker reads them), optionally recording every answer;
 * - `replay`: answers recorded earlier, so a model's evaluation can be re-scored offline, for free
 *   and identically, after a change to the platform (not to the prompts: a changed prompt has no
 *   recorded answer, and says so).
 */
export interface ProviderSource {
  /** For the report: stub, openai, anthropic, or replay:<recorded provider>. */
  label: string;
  model: string;
  /** The provider for one attempt of a case. */
  forAttempt(caseName: string, rep: number): Provider;
  /** Writes what was recorded. */
  finish(): void;
}

export const RECORDING_FORMAT = 'agentrunbook.recording/1';

const recordedAnswer = z.object({
  schema: z.string(),
  output: z.unknown(),
  usage: z.object({ input_tokens: z.number().int().nonnegative(), output_tokens: z.number().int().nonnegative() }),
  cost_usd: z.number().nonnegative(),
  model: z.string(),
  latency_ms: z.number().nonnegative(),
  raw_id: z.string(),
  attempts: z.number().int().positive(),
});

const recordingSchema = z.object({
  format: z.literal(RECORDING_FORMAT),
  case: z.string(),
  provider: z.enum(['openai', 'anthropic']),
  model: z.string(),
  recorded_at: z.string(),
  answers: z.record(z.string(), recordedAnswer),
});

export type Recording = z.infer<typeof recordingSchema>;

/**
 * The key of one request: the attempt and what the model was sent. The attempt is part of it
 * because a sampled model may answer the same prompt differently each time (a reviewer's prompt
 * does not name the run), and pass@k replays each attempt's own answers.
 */
export function requestKey(rep: number, req: Pick<StructuredRequest<unknown>, 'system' | 'messages' | 'schemaName'>): Promise<string> {
  return sha256Hex(canonicalJson({ rep, system: req.system, messages: req.messages, schema: req.schemaName }));
}

/** Wraps a live provider so that each answer it gives is kept for the case's recording. */
function recording(inner: Provider, store: Recording, rep: number): Provider {
  return {
    name: inner.name,
    model: inner.model,
    async complete<T>(req: StructuredRequest<T>): Promise<StructuredResult<T>> {
      const result = await inner.complete(req);
      store.answers[await requestKey(rep, req)] = {
        schema: req.schemaName,
        output: result.output,
        usage: result.usage,
        cost_usd: result.cost_usd,
        model: result.model,
        latency_ms: result.latency_ms,
        raw_id: result.raw_id,
        attempts: result.attempts,
      };
      return result;
    },
  };
}

/** Answers from a recording, checked by the request's schema as a live answer would be. */
export function replayProvider(rec: Recording, rep: number): Provider {
  return {
    name: rec.provider,
    model: rec.model,
    async complete<T>(req: StructuredRequest<T>): Promise<StructuredResult<T>> {
      const answer = rec.answers[await requestKey(rep, req)];
      const meta = { provider: rec.provider as ProviderName, model: rec.model };
      if (!answer) {
        throw new AgentError('unavailable', `No recorded answer for this ${req.schemaName} request in attempt ${rep} of case "${rec.case}" (the prompt differs from the recording's, or the attempt was not recorded; record again)`, meta);
      }
      const parsed = req.schema.safeParse(answer.output);
      if (!parsed.success) throw new AgentError('invalid_output', `The recorded answer no longer fits ${req.schemaName}: ${z.prettifyError(parsed.error)}`, meta);
      return { output: parsed.data, usage: answer.usage, cost_usd: answer.cost_usd, model: answer.model, provider: rec.provider, latency_ms: answer.latency_ms, raw_id: answer.raw_id, attempts: answer.attempts };
    },
  };
}

function readRecording(dir: string, name: string): Recording {
  const file = path.join(dir, `${name}.json`);
  if (!existsSync(file)) throw new Error(`replay: no recording for case "${name}" (${file}); record one with --record`);
  const parsed = recordingSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`replay: ${file} is not a recording: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export interface SourceOptions {
  /** stub, openai, anthropic or replay; default: LLM_PROVIDER, else stub. */
  provider?: string;
  env: AgentSettings;
  /** Where recordings are read (replay) or written (record). */
  recordings?: string;
  record?: boolean;
  /** Default directory of recordings: <root>/evals/recordings. */
  recordingsRoot: string;
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9.-]+/g, '-');

export function providerSource(opts: SourceOptions): ProviderSource {
  const name = (opts.provider ?? opts.env.LLM_PROVIDER ?? '').trim().toLowerCase() || 'stub';
  if (name === 'replay') {
    if (!opts.recordings) throw new Error('replay needs --recordings <dir> (e.g. evals/recordings/openai-gpt-5.4)');
    const dir = opts.recordings;
    const cache = new Map<string, Recording>();
    const first = () => [...cache.values()][0];
    return {
      get label() {
        return `replay:${first()?.provider ?? 'recorded'}`;
      },
      get model() {
        return first()?.model ?? 'recorded';
      },
      forAttempt(caseName, rep) {
        let rec = cache.get(caseName);
        if (!rec) cache.set(caseName, (rec = readRecording(dir, caseName)));
        return replayProvider(rec, rep);
      },
      finish() {},
    };
  }
  // loadAgentConfig checks the variables and names the one at fault (never a key's value).
  const config = loadAgentConfig({ ...opts.env, LLM_PROVIDER: name });
  const live = createProvider(config);
  if (config.provider === 'stub') {
    if (opts.record) throw new Error('--record needs a model provider (openai or anthropic): the stub has nothing to record');
    return { label: 'stub', model: 'stub', forAttempt: () => live, finish() {} };
  }
  if (!opts.record) return { label: config.provider, model: config.model, forAttempt: () => live, finish() {} };
  const dir = opts.recordings ?? path.join(opts.recordingsRoot, slug(`${config.provider}-${config.model}`));
  const stores = new Map<string, Recording>();
  return {
    label: config.provider,
    model: config.model,
    forAttempt(caseName, rep) {
      let store = stores.get(caseName);
      if (!store) {
        store = { format: RECORDING_FORMAT, case: caseName, provider: config.provider, model: config.model, recorded_at: new Date().toISOString(), answers: {} };
        stores.set(caseName, store);
      }
      return recording(live, store, rep);
    },
    finish() {
      mkdirSync(dir, { recursive: true });
      for (const store of stores.values()) writeFileSync(path.join(dir, `${store.case}.json`), `${JSON.stringify(store, null, 2)}\n`);
    },
  };
}
