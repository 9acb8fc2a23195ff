import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRunbook } from './parse';
import type { Runbook } from './types';

const dir = new URL('../../runbooks/', import.meta.url);
const files = readdirSync(dir).filter((name) => name.endsWith('.yaml')).sort();

function load(file: string): Runbook {
  const result = parseRunbook(readFileSync(new URL(file, dir), 'utf8'));
  if (!result.ok) throw new Error(`${file}:\n${result.errors.map((e) => `  line ${e.line}: ${e.path}: ${e.message}`).join('\n')}`);
  return result.runbook;
}

describe('sample runbooks', () => {
  it('there are five', () => {
    expect(files).toEqual([
      'node-not-ready.yaml',
      'pagerduty-incident-triage.yaml',
      'revert-bad-pr.yaml',
      'rollback-bad-deploy.yaml',
      'scale-up-under-load.yaml',
    ]);
  });

  it.each(files)('%s parses with no errors and is named after its file', (file) => {
    expect(load(file).metadata.name).toBe(file.replace(/\.yaml$/, ''));
  });

  it('together use every namespace, an approval, a retry, a verify and a short wait', () => {
    const steps = files.flatMap((file) => load(file).spec.steps);
    expect(new Set(steps.map((s) => s.tool.split('.')[0]))).toEqual(new Set(['github', 'jira', 'pagerduty', 'k8s', 'core']));
    expect(steps.some((s) => s.approval === 'required')).toBe(true);
    expect(steps.some((s) => s.retry.attempts > 1)).toBe(true);
    expect(steps.some((s) => s.verify !== undefined)).toBe(true);
    expect(steps.some((s) => s.tool === 'core.wait' && s.with['duration'] === '5s')).toBe(true);
  });

  it('node-not-ready normalises durations and defaults as DESIGN §2 describes', () => {
    const runbook = load('node-not-ready.yaml');
    const [ack, cordon, drain, ticket] = runbook.spec.steps;
    expect(drain).toMatchObject({ retry: { attempts: 3, backoff_ms: 30_000 }, timeout_ms: 600_000, on_failure: 'compensate', approval: 'required' });
    expect(ack).toMatchObject({ if: 'has(inputs.incident_id)', retry: { attempts: 1, backoff_ms: 0 }, on_failure: 'compensate' });
    expect(cordon?.on_failure).toBe('compensate');
    expect(ticket?.with).toMatchObject({ project: 'OPS' });
    expect(runbook.spec.inputs['node']).toEqual({ type: 'string', required: true });
    expect(runbook.spec.inputs['cluster']).toEqual({ type: 'string', required: false, default: 'prod-eu' });
    expect(runbook.spec.triggers[0]).toMatchObject({ source: 'alertmanager', inputs: { node: 'event.alerts[0].labels.node' } });
  });
});
