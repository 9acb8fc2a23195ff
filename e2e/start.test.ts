// `npm start` as a user runs it: provider variables from the shell, a malformed admin key refused
// before anything starts, and whatever ends it — a signal during start-up, an error after the server
// is up, SIGTERM once it serves — no `wrangler dev` or workerd is left behind holding the port.
// Each start gets its own port and state directory (AGENTRUNBOOK_STATE), never the developer's.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAI, type ChatRequestBody } from '../test/fakes/openai-server';
import { newAdminKey } from '../scripts/lib.mjs';
import { ROOT, apiClient, freePort, pollUntil, waitForRun, waitPortFree } from './helpers';

interface Started {
  child: ChildProcess;
  port: number;
  state: string;
  output: () => string;
  exited: Promise<number | null>;
}

const started: Started[] = [];

function npmStart(env: Record<string, string>): Promise<Started> {
  return freePort().then((port) => {
    const state = mkdtempSync(path.join(os.tmpdir(), 'agentrunbook-start-'));
    const child = spawn('npm', ['start'], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), AGENTRUNBOOK_STATE: state, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const s = { child, port, state, output: () => out, exited };
    started.push(s);
    return s;
  });
}

/** Process ids whose command line names `marker`, and every process in their process groups. */
function processesOf(marker: string): number[] {
  const procs = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const cmdline = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ');
        // Field 5 of stat is the process group; the command name (field 2) may hold spaces.
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
        return [{ pid: Number(d), pgid, cmdline }];
      } catch {
        return [];
      }
    });
  const groups = new Set(procs.filter((p) => p.cmdline.includes(marker) && p.pid !== process.pid).map((p) => p.pgid));
  groups.delete(process.pid); // vitest's own group is not the server's
  return procs.filter((p) => groups.has(p.pgid) || (p.cmdline.includes(marker) && p.pid !== process.pid)).map((p) => p.pid);
}

/** After a start has ended: nothing listens on its port and none of its processes is alive. */
async function expectNothingLeft(s: Started): Promise<void> {
  await waitPortFree(s.port, 15_000);
  await pollUntil('the start\'s processes to be gone', async () => processesOf(s.state), (pids) => pids.length === 0, { timeoutMs: 15_000 });
}

afterEach(async () => {
  for (const s of started.splice(0)) {
    if (s.child.exitCode === null) s.child.kill('SIGKILL');
    for (const pid of processesOf(s.state)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(s.state, { recursive: true, force: true });
  }
});

describe('npm start', () => {
  it('refuses a malformed AGENTRUNBOOK_ADMIN_KEY before anything starts, naming the rule', async () => {
    const s = await npmStart({ AGENTRUNBOOK_ADMIN_KEY: 'bad' });
    expect(await s.exited).toBe(1);
    expect(s.output()).toMatch(/AGENTRUNBOOK_ADMIN_KEY must look like ark_ followed by 20–100 letters or digits/);
    expect(s.output()).not.toMatch(/Building the UI|Starting the Worker/);
    await expectNothingLeft(s);
  });

  it.each([
    ['the migrations run', 'Applying D1 migrations'],
    ['wrangler dev is still starting', 'Starting the Worker'],
  ])('SIGTERM to npm while %s stops everything: no process keeps the port', async (_, line) => {
    const s = await npmStart({});
    await pollUntil(`"${line}"`, async () => s.output(), (out) => out.includes(line), { timeoutMs: 60_000, intervalMs: 20 });
    // Sent to npm alone, as a supervisor or `kill <pid>` would: npm and its shell do not pass it on.
    s.child.kill('SIGTERM');
    expect(await s.exited).not.toBe(0);
    await expectNothingLeft(s);
    expect(s.output()).not.toContain('Stop with Ctrl-C');
  });

  it('an error after the server is up (a provider without its key) ends the start and stops the server', async () => {
    const s = await npmStart({ LLM_PROVIDER: 'openai', OPENAI_API_KEY: '', OPENAI_BASE_URL: '', LLM_MODEL: '' });
    expect(await s.exited).toBe(1);
    expect(s.output()).toMatch(/agents' configuration does not load: LLM_PROVIDER=openai needs OPENAI_API_KEY.*\(LLM_PROVIDER from environment\)/);
    await expectNothingLeft(s);
  });

  describe('with the provider given in the shell', () => {
    const fake = new FakeOpenAI('x');
    let baseURL: string;

    beforeAll(async () => {
      baseURL = await fake.listen();
      // A well-behaved model: keeps the runbook's one step, and the reviewer agrees.
      fake.otherwise((body: ChatRequestBody) => {
        const schema = body.response_format?.json_schema?.name;
        if (schema === 'runbook_plan') return { json: { steps: [{ id: 'inspect', tool: 'k8s.get_node', args_json: '{}', reason: 'Runbook step inspect', from_runbook_step: 'inspect' }] } };
        if (schema === 'review') return { json: { verdict: 'ok', reason: 'A read' } };
        return { status: 400, error: { message: `unexpected request (${schema})` } };
      });
    });

    afterAll(async () => {
      await fake.close();
    });

    it('LLM_PROVIDER=openai OPENAI_BASE_URL=… from the shell: start-up says so, a run calls that server, SIGTERM stops everything', async () => {
      const key = newAdminKey();
      const s = await npmStart({ AGENTRUNBOOK_ADMIN_KEY: key, LLM_PROVIDER: 'openai', OPENAI_BASE_URL: baseURL, OPENAI_API_KEY: 'x', LLM_MODEL: 'm' });
      await pollUntil('npm start to be ready', async () => s.output(), (out) => out.includes('Stop with Ctrl-C') || s.child.exitCode !== null, { timeoutMs: 120_000, intervalMs: 200 });
      expect(s.output()).toContain(`Agents: openai, model m at ${baseURL} (LLM_PROVIDER from environment)`);
      expect(s.output()).not.toContain('OPENAI_API_KEY=');

      const api = apiClient(`http://127.0.0.1:${s.port}`, key);
      const yaml = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: look-at-node }
spec:
  goal: Look at a node.
  steps:
    - id: inspect
      tool: k8s.get_node
      with: { cluster: staging, node: node-1 }
`;
      expect((await api('POST', '/runbooks', { yaml })).status).toBe(201);
      const created = await api('POST', '/runs', { json: { runbook: 'look-at-node' } });
      expect(created.status, created.text).toBe(201);
      const run = await waitForRun(api, created.body.id, ['succeeded'], 60_000);
      expect(run.status).toBe('succeeded');
      expect(fake.requests.length).toBeGreaterThan(0);
      expect(fake.requests.every((r) => r.body.model === 'm' && r.headers.authorization === 'Bearer x')).toBe(true);

      s.child.kill('SIGTERM');
      await s.exited;
      await expectNothingLeft(s);
    });
  });
});
