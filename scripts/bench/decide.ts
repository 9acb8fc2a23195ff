// Policy decision latency of decide() under a policy file, measured in-process (no I/O).
// Built and run by scripts/bench.mjs; prints nothing itself, returns the samples.
import { parse } from 'yaml';
import { decide, type DecisionRequest } from '../../worker/policy/decide';
import { factsFor, unknownTarget } from '../../worker/policy/facts';
import { policySchema } from '../../worker/policy/schema';

export interface DecideBench {
  cases: number;
  samples: number;
  p50_us: number;
  p99_us: number;
  mean_us: number;
  effects: Record<string, number>;
}

/** A mix of calls like a day of runs makes: reads and writes, prod and staging, every role. */
function requests(): DecisionRequest[] {
  const tools = [
    { id: 'k8s.get_deployment', mutating: false, risk: 'low' as const },
    { id: 'k8s.restart_deployment', mutating: true, risk: 'medium' as const },
    { id: 'k8s.drain_node', mutating: true, risk: 'high' as const },
    { id: 'github.create_issue', mutating: true, risk: 'low' as const },
    { id: 'pagerduty.add_note', mutating: true, risk: 'low' as const },
    { id: 'core.wait', mutating: false, risk: 'low' as const },
  ];
  const contexts = [{ environment: 'prod' }, { environment: 'staging' }, { environment: 'prod', change_freeze: true }, {}];
  const out: DecisionRequest[] = [];
  for (const tool of tools)
    for (const context of contexts)
      for (const role of ['viewer', 'operator', 'sre', 'admin'])
        out.push({
          tool,
          args: { namespace: 'payments', name: 'api', node: 'node-1' },
          actor: { type: 'api_key', id: 'key_bench', role },
          context,
          facts: factsFor(unknownTarget(tool.id, {}), {}, Date.UTC(2026, 0, 5, 10)),
          run: { id: 'run_bench', runbook: 'bench', mode: 'execute' },
        });
  return out;
}

export function benchDecide(policyYaml: string, samples: number): DecideBench {
  const policy = policySchema.parse(parse(policyYaml));
  const reqs = requests();
  const effects: Record<string, number> = {};
  for (let i = 0; i < 5_000; i++) decide(policy, reqs[i % reqs.length]!); // warm up the JIT and the CEL cache
  const times = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const req = reqs[i % reqs.length]!;
    const start = process.hrtime.bigint();
    const d = decide(policy, req);
    times[i] = Number(process.hrtime.bigint() - start) / 1000;
    effects[d.effect] = (effects[d.effect] ?? 0) + 1;
  }
  times.sort();
  const at = (q: number) => times[Math.min(samples - 1, Math.floor(q * samples))]!;
  let sum = 0;
  for (const t of times) sum += t;
  return { cases: reqs.length, samples, p50_us: at(0.5), p99_us: at(0.99), mean_us: sum / samples, effects };
}
