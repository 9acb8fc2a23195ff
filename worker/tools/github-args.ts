import { z } from 'zod';
import { nextCounter, rng } from './sim';
import type { SimWorld } from './types';

/** Arguments and naming shared by the GitHub tools. */

export const repoArg = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be "owner/name"')
  .describe('The repository as "owner/name", e.g. "acme/api".');
const numberArg = z.number().int().positive().describe('The issue or pull request number.');
export const repoNumber = z.object({ repo: repoArg, number: numberArg }).strict();

export const htmlUrl = (repo: string, kind: 'issues' | 'pull', n: number): string =>
  `https://github.com/${repo}/${kind}/${n}`;

/** Issues and pull requests share one number sequence per repository, as on GitHub. */
export function nextNumber(world: SimWorld, repo: string): number {
  return nextCounter(world, `github:next-number:${repo}`, rng('github-numbers', repo).int(120, 2400));
}
