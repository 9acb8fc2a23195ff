import { describe, expect, it } from 'vitest';
import { runbookFrom } from '../agents/test-helpers';
import { RunStore, type KeyValueStorage } from './state-store';
import { newRunState } from './test-helpers';

/** Storage as a map, recording what each put wrote. */
function memory(): KeyValueStorage & { data: Map<string, unknown>; puts: string[][] } {
  const data = new Map<string, unknown>();
  const puts: string[][] = [];
  const get = (async (key: string | string[]) =>
    Array.isArray(key) ? new Map(key.filter((k) => data.has(k)).map((k) => [k, structuredClone(data.get(k))])) : structuredClone(data.get(key))) as KeyValueStorage['get'];
  return {
    data,
    puts,
    get,
    put: async (entries) => {
      puts.push(Object.keys(entries));
      for (const [k, v] of Object.entries(entries)) data.set(k, structuredClone(v));
    },
  };
}

const steps = Array.from({ length: 100 }, (_, i) => `    - id: s${i}\n      tool: k8s.get_node\n      with: { cluster: staging, node: n${i} }`).join('\n');
const SPEC = runbookFrom(`apiVersion: agentrunbook/v1\nkind: Runbook\nmetadata: { name: long }\nspec:\n  steps:\n${steps}\n`);

describe('RunStore', () => {
  it('writes the whole run once, then only what changed: the header and the step that moved', async () => {
    const storage = memory();
    const store = new RunStore(storage);
    const run = newRunState(SPEC);
    const first = store.entries(run);
    await storage.put(first);
    store.saved(first);
    expect(Object.keys(first)).toEqual(expect.arrayContaining(['run', 'def', 'world', 'step:s0', 'step:s99']));

    run.steps[3]!.status = 'succeeded';
    run.steps[3]!.result = { node: 'n3' };
    run.cursor = 4;
    const next = store.entries(run);
    expect(Object.keys(next).sort()).toEqual(['run', 'step:s3']);
    // The header does not carry the steps, the runbook or the policy.
    expect(JSON.stringify(next.run).length).toBeLessThan(2_000);

    run.world.node = { unschedulable: true };
    expect(Object.keys(store.entries(run)).sort()).toEqual(['run', 'step:s3', 'world']);
  });

  it('loads what it wrote, and a run stored whole by an earlier version, which its next write splits', async () => {
    const storage = memory();
    const run = newRunState(SPEC, { status: 'running' });
    run.steps[0]!.status = 'succeeded';
    const writer = new RunStore(storage);
    const entries = writer.entries(run);
    await storage.put(entries);
    expect(await new RunStore(storage).load()).toEqual(run);

    const legacy = memory();
    legacy.data.set('run', structuredClone(run));
    const store = new RunStore(legacy);
    const loaded = await store.load();
    expect(loaded).toEqual(run);
    const split = store.entries(loaded!);
    expect(Object.keys(split)).toEqual(expect.arrayContaining(['run', 'def', 'world', 'step:s0', 'step:s99']));
    await legacy.put(split);
    expect(await new RunStore(legacy).load()).toEqual(run);
  });
});
