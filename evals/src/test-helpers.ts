import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkCase, type LoadedCase } from './load-cases';

/** The repository: cases, runbooks and policies are read from it as `npm run eval` does. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A case written in a test; throws with every problem the loader finds. */
export function caseFrom(raw: Record<string, unknown>): LoadedCase {
  const problems: string[] = [];
  const loaded = checkCase(ROOT, raw, path.join(ROOT, 'evals', 'cases', `${String(raw.name)}.yaml`), problems);
  if (!loaded) throw new Error(problems.join('\n'));
  return loaded;
}

/** The problems the loader finds in a case written in a test. */
export function problemsOf(raw: Record<string, unknown>, file = `${String(raw.name)}.yaml`): string[] {
  const problems: string[] = [];
  checkCase(ROOT, raw, path.join(ROOT, 'evals', 'cases', file), problems);
  return problems;
}

/** The smallest valid case: the node runbook on staging, as a person would run it. */
export function nodeCase(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'test-node-case',
    description: 'A node is NotReady on staging; cordon, drain and ticket.',
    integration: 'k8s',
    runbook: 'node-not-ready',
    inputs: { node: 'node-7' },
    context: { environment: 'staging' },
    expected: [
      { tool: 'k8s.cordon_node', args: { cluster: 'prod-eu', node: 'node-7' } },
      { tool: 'k8s.drain_node', args: { cluster: 'prod-eu', node: 'node-7' } },
      { tool: 'jira.create_issue', args: { project: 'OPS' } },
    ],
    ...over,
  };
}
