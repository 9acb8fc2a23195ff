import { invalidate } from '$app/navigation';

/**
 * Re-runs the loads that depend on `dependency` every `intervalMs` while the page is visible (a
 * background tab asks nothing), and at once when it becomes visible again. Returns the cleanup.
 */
export function autoRefresh(dependency: string, intervalMs: number, onRefresh?: () => void): () => void {
  let inFlight = false;
  const tick = async () => {
    if (document.visibilityState !== 'visible' || inFlight) return;
    inFlight = true;
    try {
      await invalidate(dependency);
      onRefresh?.();
    } finally {
      inFlight = false;
    }
  };
  const timer = setInterval(() => void tick(), intervalMs);
  const onVisible = () => {
    if (document.visibilityState === 'visible') void tick();
  };
  document.addEventListener('visibilitychange', onVisible);
  return () => {
    clearInterval(timer);
    document.removeEventListener('visibilitychange', onVisible);
  };
}
