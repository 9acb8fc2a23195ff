// Runs once for the whole e2e suite: builds the UI and starts one real `wrangler dev` (the way
// `npm start` does) on a free port with its own temporary state; the tests get its URL and admin key
// through `inject('e2e')`. Files that need to stop and restart a server start their own.
import type { TestProject } from 'vitest/node';
import { buildWeb, ensureDevVars } from '../scripts/lib.mjs';
import { startInstance } from './helpers';

export default async function setup(project: TestProject) {
  const t0 = Date.now();
  ensureDevVars();
  // npm test builds the UI once before its phases; run alone, the e2e suite builds it itself.
  if (process.env.AGENTRUNBOOK_WEB_BUILT !== '1') buildWeb();
  const tBuilt = Date.now();
  const instance = await startInstance('agentrunbook-e2e');
  const { url, adminKey, persistTo, port, token } = instance;
  project.provide('e2e', { url, adminKey, persistTo, port, token });
  console.log(`[e2e] UI built in ${((tBuilt - t0) / 1000).toFixed(1)} s; wrangler dev up on ${url} after ${((Date.now() - tBuilt) / 1000).toFixed(1)} s (state in ${persistTo})`);

  return async () => {
    await instance.dispose();
  };
}
