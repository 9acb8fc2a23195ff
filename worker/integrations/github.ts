import { createExecutor } from './executor';
import { classifyGitHubError, githubClient } from './github-client';
import { githubDeploymentHandlers } from './github-deployments';
import { githubIssueHandlers } from './github-issues';
import { githubPullHandlers } from './github-pulls';
import { DEFAULT_RETRY, type ExecutorOptions, type GitHubCredentials, type IntegrationSettings, type LiveExecutor } from './types';

/** The live `github.*` tools, through @octokit/rest (REST, and GraphQL for the revert). */
export function createGitHubExecutor(settings: IntegrationSettings<GitHubCredentials>, options: ExecutorOptions = {}): LiveExecutor {
  return createExecutor({
    vendor: 'github',
    handlers: {
      ...githubIssueHandlers,
      ...githubPullHandlers,
      ...githubDeploymentHandlers({
        timeoutMs: options.deploymentWait?.timeoutMs ?? 10 * 60_000,
        pollMs: options.deploymentWait?.pollMs ?? 10_000,
      }),
    },
    connect: (signal) => githubClient(settings, signal),
    classify: (err) => classifyGitHubError(err),
    secrets: [settings.credentials.token],
    retry: { ...DEFAULT_RETRY, ...options.retry },
  });
}
