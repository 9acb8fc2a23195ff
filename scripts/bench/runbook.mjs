// The benchmark's documents: the runbook of cheap, read-only steps on simulated integrations (no
// network I/O, so what is measured is the platform's own per-step work), the runbook whose steps
// each wait for an approval (live view), and the bench instance's policy.

/** The tools the steps cycle through, with arguments their schemas accept. */
export const STEP_TOOLS = [
  { tool: 'k8s.get_node', with: { cluster: 'prod-eu', node: 'ip-10-0-3-17.eu-west-1.compute.internal' } },
  { tool: 'core.http_check', with: { url: 'https://status.example.com/ok' } },
  { tool: 'jira.get_issue', with: { key: 'OPS-123' } },
  { tool: 'pagerduty.get_incident', with: { incident_id: 'Q2T2HSK3PVT1YR' } },
];

export function benchRunbookYaml(name, steps = 20) {
  const lines = [
    'apiVersion: agentrunbook/v1',
    'kind: Runbook',
    'metadata:',
    `  name: ${name}`,
    `  description: Benchmark runbook, ${steps} read-only simulated steps.`,
    'spec:',
    '  goal: Measure the per-step orchestration overhead.',
    '  steps:',
  ];
  for (let i = 0; i < steps; i++) {
    const { tool, with: args } = STEP_TOOLS[i % STEP_TOOLS.length];
    lines.push(`    - id: s${String(i + 1).padStart(2, '0')}`);
    lines.push(`      tool: ${tool}`);
    lines.push(`      with: ${JSON.stringify(args)}`);
  }
  return lines.join('\n') + '\n';
}

/** Checks the steps' tools and argument names against `GET /api/v1/tools`; returns problems found. */
export function checkAgainstCatalog(catalog) {
  const items = Array.isArray(catalog) ? catalog : (catalog.items ?? catalog.tools ?? []);
  const problems = [];
  for (const { tool, with: args } of STEP_TOOLS) {
    const def = items.find((t) => t.id === tool || t.name === tool);
    if (!def) {
      problems.push(`tool ${tool} is not in the catalog`);
      continue;
    }
    const schema = def.args ?? def.args_schema ?? def.input_schema ?? def.schema;
    const props = schema?.properties;
    if (!props) continue;
    for (const k of Object.keys(args)) if (!(k in props)) problems.push(`${tool} has no argument "${k}" (has: ${Object.keys(props).join(', ')})`);
    if (def.mutating) problems.push(`${tool} is mutating; the benchmark wants read-only tools`);
  }
  return problems;
}

/** The tool of the approval runbook: mutating, so in prod the default policy asks an SRE first. */
export const GATED_STEP = { tool: 'pagerduty.add_note', with: { incident_id: 'Q2T2HSK3PVT1YR', content: 'bench: approved step' } };

/**
 * A runbook of `steps` simulated mutating steps. Run with `context: { environment: prod }`, every
 * step waits for an approval (default policy: prod-writes-need-approval, someone other than the
 * requester), so the client decides when each event happens.
 */
export function approvalRunbookYaml(name, steps) {
  const lines = [
    'apiVersion: agentrunbook/v1',
    'kind: Runbook',
    'metadata:',
    `  name: ${name}`,
    `  description: Benchmark runbook, ${steps} simulated writes that each need an approval in prod.`,
    'spec:',
    '  goal: Measure the live view latency.',
    '  steps:',
  ];
  for (let i = 0; i < steps; i++) {
    lines.push(`    - id: a${String(i + 1).padStart(2, '0')}`);
    lines.push(`      tool: ${GATED_STEP.tool}`);
    lines.push(`      with: ${JSON.stringify(GATED_STEP.with)}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * The bench instance's policy: the default one with the tenant's runs-per-hour budget raised (the
 * bench starts far more than the default 120 runs in an hour). Everything else is unchanged, so
 * every step is decided exactly as under the default policy.
 */
export function benchPolicyYaml(defaultYaml, maxRunsPerHour = 1_000_000) {
  const re = /max_runs_per_hour:\s*\d+/;
  if (!re.test(defaultYaml)) throw new Error('policies/default.yaml has no max_runs_per_hour to raise for the bench');
  return defaultYaml.replace(re, `max_runs_per_hour: ${maxRunsPerHour}`);
}
