import { defaultPolicy } from '../agents/test-helpers';
import type { Runbook } from '../runbooks/types';
import type { RunState } from './types';

/** A run's state as `POST /runs` creates it (an execute run by an sre, simulated), for unit tests. */
export function newRunState(spec: Runbook, over: Partial<RunState> = {}): RunState {
  return {
    id: 'run_1',
    tenantId: 't1',
    runbook: { id: 'rb', name: spec.metadata.name, version: 1 },
    spec,
    policy: defaultPolicy(),
    policyId: null,
    mode: 'execute',
    status: 'queued',
    inputs: { node: 'node-7' },
    context: {},
    actor: { type: 'api_key', id: 'k1', role: 'sre' },
    integrationMode: 'simulated',
    created_at: '2026-12-08T10:00:00.000Z',
    cost_usd: 0,
    tokens: 0,
    steps: spec.spec.steps.map((s, idx) => ({ id: s.id, idx, tool: s.tool, status: 'pending', attempts: 0, approvals: [] })),
    cursor: 0,
    compensate: [],
    world: {},
    seq: 0,
    audited_seq: 0,
    ...over,
  };
}
