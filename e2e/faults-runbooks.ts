// The runbooks of the fault campaign (e2e/faults.test.ts) and how each must end.
import { SLOW_SUMMARY, UNDO_SUMMARY } from './faults-vendor';

export interface FaultRunbook {
  steps: string;
  /** How every run of it must end, however often the platform dies under it. */
  ends: 'succeeded' | 'failed';
  /** For a run that fails: the steps it must have undone (mutating, with an inverse, before the failure). */
  undone?: string[];
}

// Simulated steps, live Jira writes and durable sleeps. None has `retry`: with no upstream faults
// every step must succeed at its first attempt (or, in `faults-undo`, fail at its first).
export const RUNBOOKS: Record<string, FaultRunbook> = {
  // Live Jira writes around a durable sleep, between simulated deployment changes. (Kubernetes is
  // not used: the tenant is live through Jira, and a live run's k8s calls need a registered
  // cluster with its relay; GitHub is not live here, so its calls are simulated.)
  'faults-ticket': {
    ends: 'succeeded',
    steps: `
    - id: check
      tool: github.list_deployments
      with: { repo: acme/faults, environment: staging }
    - id: deploy
      tool: github.rollback_deployment
      with: { repo: acme/faults, environment: staging }
    - id: ticket
      tool: jira.create_issue
      with:
        project: OPS
        summary: 'Fault run \${{ run.id }}'
    - id: pause
      tool: core.wait
      with: { duration: 1s }
    - id: comment
      tool: jira.add_comment
      with:
        key: '\${{ steps.ticket.result.key }}'
        body: 'Rolled back by \${{ run.id }}'
    - id: restore
      tool: github.rollback_deployment
      with: { repo: acme/faults, environment: staging, ref: '\${{ steps.deploy.result.previous_ref }}' }
`,
  },
  // Simulated deployment changes around a longer sleep.
  'faults-scale': {
    ends: 'succeeded',
    steps: `
    - id: staging
      tool: github.rollback_deployment
      with: { repo: acme/checkout, environment: staging }
    - id: pause
      tool: core.wait
      with: { duration: 2s }
    - id: qa
      tool: github.rollback_deployment
      with: { repo: acme/checkout, environment: qa }
`,
  },
  // A live create → transition chain.
  'faults-triage': {
    ends: 'succeeded',
    steps: `
    - id: ticket
      tool: jira.create_issue
      with:
        project: OPS
        summary: 'Triage \${{ run.id }}'
    - id: start
      tool: jira.transition_issue
      with:
        key: '\${{ steps.ticket.result.key }}'
        transition: Start Progress
    - id: pause
      tool: core.wait
      with: { duration: 1s }
`,
  },
  // Long live calls: the vendor holds the create and the comment 1.5–3 s each, so kills land
  // while a call is in flight, outside the run's lock.
  'faults-slow': {
    ends: 'succeeded',
    steps: `
    - id: ticket
      tool: jira.create_issue
      with:
        project: OPS
        summary: '${SLOW_SUMMARY}\${{ run.id }}'
    - id: comment
      tool: jira.add_comment
      with:
        key: '\${{ steps.ticket.result.key }}'
        body: 'Slow call by \${{ run.id }}'
`,
  },
  // Changes, a pause, then a step that fails for good: the fake's workflow has no "Reopen Issue",
  // which the integration reports as `invalid` (a 4xx: never retried). The changes are undone,
  // newest first; the vendor holds the transition back to `To Do` 1–2 s, so kills land inside the
  // compensation. The issue itself stays (a create has no inverse: the record is worth keeping).
  'faults-undo': {
    ends: 'failed',
    undone: ['web', 'cart', 'start'],
    steps: `
    - id: web
      tool: github.rollback_deployment
      with: { repo: acme/web, environment: staging }
    - id: cart
      tool: github.rollback_deployment
      with: { repo: acme/cart, environment: staging }
    - id: ticket
      tool: jira.create_issue
      with:
        project: OPS
        summary: '${UNDO_SUMMARY}\${{ run.id }}'
    - id: start
      tool: jira.transition_issue
      with:
        key: '\${{ steps.ticket.result.key }}'
        transition: Start Progress
    - id: pause
      tool: core.wait
      with: { duration: 1s }
    - id: reopen
      tool: jira.transition_issue
      on_failure: compensate
      with:
        key: '\${{ steps.ticket.result.key }}'
        transition: Reopen Issue
    - id: never
      tool: jira.add_comment
      with:
        key: '\${{ steps.ticket.result.key }}'
        body: 'Not reached: the run failed before'
`,
  },
};

export const NAMES = Object.keys(RUNBOOKS);
