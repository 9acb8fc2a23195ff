import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAI, type ChatRequestBody } from '../../test/fakes/openai-server';
import { loadCases } from './load-cases';
import { providerSource, RECORDING_FORMAT } from './providers';
import { runSuite } from './run-suite';
import { ROOT } from './test-helpers';

/*
 * The suite with a model provider, through the real OpenAI SDK against the fake OpenAI server
 * (test/fakes/openai-server.ts): recorded once, then replayed offline with the same grades.
 */

const KEY = 'sk-test-eval-openai-key-00000000000000';
const MODEL = 'gpt-fake-eval';

/** A model that plans the runbook as written and has no objection: what a good model answers here. */
function answer(body: ChatRequestBody) {
  const name = body.response_format?.json_schema?.name;
  const user = String(body.messages.find((m) => m.role === 'user')?.content ?? '');
  if (name === 'runbook_plan') {
    const block = /<data name="runbook">\n([\s\S]*?)\n<\/data>/.exec(user)![1]!;
    const runbook = JSON.parse(block) as { steps: Array<{ id: string; tool: string }> };
    return { json: { steps: runbook.steps.map((s) => ({ id: s.id, tool: s.tool, args_json: '{}', reason: `Runbook step ${s.id}`, from_runbook_step: s.id })) } };
  }
  if (name === 'review') return { json: { verdict: 'ok', reason: 'The call matches the runbook and its goal.' } };
  return { status: 400, error: { message: `unexpected request ${name}` } };
}

describe('model providers in the evaluation', () => {
  const fake = new FakeOpenAI(KEY);
  let baseURL: string;
  let dir: string;
  const env = () => ({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: baseURL, LLM_MODEL: MODEL, LLM_PRICES: JSON.stringify({ [MODEL]: { input: 1, output: 4 } }), LLM_MAX_RETRIES: '0' });
  const cases = loadCases(ROOT, undefined, (n) => n === 'pd-ack-and-note');

  beforeAll(async () => {
    fake.otherwise(answer);
    baseURL = await fake.listen();
    dir = mkdtempSync(path.join(os.tmpdir(), 'eval-recordings-'));
  });
  afterAll(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the cases through the configured model, counting its tokens and cost, and records its answers', async () => {
    const source = providerSource({ provider: 'openai', env: env(), record: true, recordings: dir, recordingsRoot: dir });
    const [outcome] = await runSuite(cases, source, { k: 2, scriptedAttacks: false });
    source.finish();
    expect(source.label).toBe('openai');
    expect(outcome!.attempts.map((a) => [a.passed, a.score, a.agent_calls])).toEqual([
      [true, 1, 4], // planner, then a review of each of the three calls
      [true, 1, 4],
    ]);
    expect(outcome!.attempts[0]!.tokens).toBeGreaterThan(0);
    expect(outcome!.attempts[0]!.cost_usd).toBeGreaterThan(0);
    expect(fake.requests).toHaveLength(8);
    const file = path.join(dir, 'pd-ack-and-note.json');
    expect(existsSync(file)).toBe(true);
    const recording = JSON.parse(readFileSync(file, 'utf8'));
    expect(recording).toMatchObject({ format: RECORDING_FORMAT, case: 'pd-ack-and-note', provider: 'openai', model: MODEL });
    expect(Object.keys(recording.answers)).toHaveLength(8);
    expect(JSON.stringify(recording)).not.toContain(KEY);
  });

  it('replays the recording offline with the same grades, tokens and cost', async () => {
    const before = fake.requests.length;
    const recorded = providerSource({ provider: 'openai', env: env(), recordingsRoot: dir });
    const live = (await runSuite(cases, recorded, { k: 1, scriptedAttacks: false }))[0]!.attempts[0]!;
    const source = providerSource({ provider: 'replay', env: {}, recordings: dir, recordingsRoot: dir });
    const [outcome] = await runSuite(cases, source, { k: 2, scriptedAttacks: false });
    expect(source.label).toBe('replay:openai');
    expect(source.model).toBe(MODEL);
    expect(fake.requests.length).toBe(before + 4); // only the live run above asked the server
    const replayed = outcome!.attempts[0]!;
    expect([replayed.passed, replayed.score, replayed.plan, replayed.tokens, replayed.cost_usd]).toEqual([live.passed, live.score, live.plan, live.tokens, live.cost_usd]);
  });

  it('says so when a prompt has no recorded answer, instead of inventing one', async () => {
    const source = providerSource({ provider: 'replay', env: {}, recordings: dir, recordingsRoot: dir });
    // The third attempt's run id (and so its prompt) was never recorded.
    const [outcome] = await runSuite(cases, source, { k: 3, scriptedAttacks: false });
    const third = outcome!.attempts[2]!;
    expect(third.passed).toBe(false);
    expect(third.status).toBe('failed');
    expect(third.failures.join(' ')).toMatch(/No recorded answer for this runbook_plan request in attempt 2/);
  });
});
