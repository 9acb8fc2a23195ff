import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAI } from '../../test/fakes/openai-server';
import { allowedTools } from './allowed-tools';
import { createOpenAIProvider } from './openai';
import { planRun } from './planner';
import { costOf, VENDOR_PRICES } from './pricing';
import { reviewCall } from './reviewer';
import { defaultPolicy, remote, sampleRunbook } from './test-helpers';
import { fillArgs } from './toolcaller';
import type { AgentTrace } from './trace';

let fake: FakeOpenAI;
let baseURL: string;

beforeAll(async () => {
  fake = new FakeOpenAI();
  baseURL = await fake.listen();
});
afterAll(() => fake.close());

describe('token and cost accounting', () => {
  it('the run is charged exactly the sum of what the provider reported, once per request', async () => {
    const runbook = sampleRunbook('pagerduty-incident-triage.yaml');
    const plan = { steps: runbook.spec.steps.map((s) => ({ id: s.id, tool: s.tool, args_json: '{}', reason: 'r', from_runbook_step: s.id })) };
    const usages = [
      { prompt_tokens: 4_000, completion_tokens: 10 }, // planner: broken JSON
      { prompt_tokens: 4_100, completion_tokens: 500 }, // planner: repaired
      { prompt_tokens: 1_200, completion_tokens: 30 }, // toolcaller
      { prompt_tokens: 800, completion_tokens: 20 }, // reviewer
      { prompt_tokens: 700, completion_tokens: 5 }, // reviewer, second call: invalid
      { prompt_tokens: 750, completion_tokens: 6 }, // … and invalid again: fails, still paid for
    ];
    fake.reply(
      { content: '{"steps": [', usage: usages[0] },
      { json: plan, usage: usages[1] },
      { json: { cluster: 'prod-eu', namespace: 'web', pod: 'api-1', tail_lines: 50 }, usage: usages[2] },
      { json: { verdict: 'ok', reason: 'fine' }, usage: usages[3] },
      { json: { verdict: 'maybe' }, usage: usages[4] },
      { json: { verdict: 'perhaps' }, usage: usages[5] },
    );
    const provider = createOpenAIProvider(remote(baseURL, fake.apiKey, { model: 'gpt-4.1' }));
    const inputs = { incident_id: 'P1', cluster: 'prod-eu', namespace: 'web', pod: 'api-1', log_lines: 50 };
    const traces: AgentTrace[] = [];

    const planned = await planRun(provider, { runbook, inputs, context: {}, run: { id: 'run_1', mode: 'execute' }, allowed: allowedTools(defaultPolicy(), 'sre') });
    traces.push(planned.trace);
    const filled = await fillArgs(provider, {
      step: { id: 'logs', tool: 'k8s.get_pod_logs', with: { cluster: '${{ inputs.cluster }}', namespace: '${{ inputs.namespace }}', pod: '${{ inputs.pod }}' } },
      vars: { inputs, context: {}, run: { id: 'run_1' }, steps: {} },
    });
    if (filled.trace) traces.push(filled.trace);
    const review = { runbook: { name: runbook.metadata.name }, step: { id: 'logs', tool: 'k8s.get_pod_logs', args: {} }, decision: { effect: 'allow' as const, reasons: [] }, inputs, context: {} };
    traces.push((await reviewCall(provider, review)).trace);
    const failed = await reviewCall(provider, review);
    traces.push(failed.trace);

    expect(planned.ok && filled.ok).toBe(true);
    expect(failed.ok).toBe(false);
    expect(fake.requests).toHaveLength(usages.length);
    const sent = { input_tokens: usages.reduce((n, u) => n + u.prompt_tokens, 0), output_tokens: usages.reduce((n, u) => n + u.completion_tokens, 0) };
    const charged = { input_tokens: traces.reduce((n, t) => n + t.input_tokens, 0), output_tokens: traces.reduce((n, t) => n + t.output_tokens, 0) };
    expect(charged).toEqual(sent);
    const price = VENDOR_PRICES.openai['gpt-4.1']!;
    expect(traces.reduce((n, t) => n + t.cost_usd, 0)).toBeCloseTo(costOf(sent, price), 10);
    for (const t of traces) expect(t.cost_usd).toBeCloseTo(costOf(t, price), 12);
  });
});
