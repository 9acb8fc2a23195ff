import { call, callOptions } from '../kube';
import { defineAction } from './context';
import type { ActionContext } from './context';

/** `kubectl logs --tail`: the last lines of a container, bounded in lines and bytes. */

interface LogArgs {
  cluster: string;
  namespace: string;
  pod: string;
  container?: string;
  /** Defaulted (100) and capped (1000) by the tool's schema. */
  tail_lines: number;
}

/** The most lines one call returns (the tool's schema caps `tail_lines` here too); advertised in `hello`. */
export const MAX_LOG_LINES = 1000;
/** What one response may carry: a WebSocket frame to the hub stays well under its limits. */
export const MAX_LOG_BYTES = 256 * 1024;
/** A single line longer than this is cut (minified JSON, stack dumps). */
export const MAX_LINE_CHARS = 8 * 1024;
/** Asked of the API server so a pathological log cannot exhaust the relay's memory. */
const FETCH_LIMIT_BYTES = 4 * 1024 * 1024;

const podWhat = (a: LogArgs): string => `pod ${a.namespace}/${a.pod}`;

/** Like kubectl: the `kubectl.kubernetes.io/default-container` annotation, else the first container. */
async function defaultContainer(ctx: ActionContext, a: LogArgs): Promise<string> {
  const pod = await call(podWhat(a), () => ctx.kube.core.readNamespacedPod({ name: a.pod, namespace: a.namespace }, callOptions(ctx.signal)));
  const names = pod.spec?.containers?.map((c) => c.name) ?? [];
  const annotated = pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container'];
  return annotated !== undefined && names.includes(annotated) ? annotated : (names[0] ?? '');
}

/** Keeps the newest lines that fit the byte budget; reports whether anything was left out. */
export function boundLines(text: string, tail: number): { lines: string[]; truncated: boolean } {
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  let truncated = all.length > tail;
  const lines: string[] = [];
  let bytes = 0;
  for (let i = all.length - 1; i >= Math.max(0, all.length - tail); i--) {
    let line = all[i] ?? '';
    if (line.length > MAX_LINE_CHARS) line = `${line.slice(0, MAX_LINE_CHARS)} …[line truncated]`;
    bytes += Buffer.byteLength(line) + 1;
    if (bytes > MAX_LOG_BYTES) {
      truncated = true;
      break;
    }
    lines.push(line);
  }
  return { lines: lines.reverse(), truncated };
}

export const getPodLogs = defineAction<LogArgs>('k8s.get_pod_logs', async (a, ctx) => {
  const container = a.container ?? (await defaultContainer(ctx, a));
  // One line more than asked tells whether the log goes back further.
  const text = await call(`logs of ${podWhat(a)}`, () =>
    ctx.kube.core.readNamespacedPodLog(
      { name: a.pod, namespace: a.namespace, container, tailLines: a.tail_lines + 1, limitBytes: FETCH_LIMIT_BYTES },
      callOptions(ctx.signal),
    ),
  );
  const { lines, truncated } = boundLines(text, a.tail_lines);
  return {
    cluster: ctx.cluster,
    namespace: a.namespace,
    pod: a.pod,
    container,
    lines,
    truncated: truncated || Buffer.byteLength(text) >= FETCH_LIMIT_BYTES,
  };
});
