// The sample runbooks seeded into the demo tenant by `npm start` (bundled as text by wrangler).
import nodeNotReady from './node-not-ready.yaml';
import rollbackBadDeploy from './rollback-bad-deploy.yaml';
import pagerdutyIncidentTriage from './pagerduty-incident-triage.yaml';
import scaleUpUnderLoad from './scale-up-under-load.yaml';
import revertBadPr from './revert-bad-pr.yaml';

export const SAMPLE_RUNBOOKS: readonly string[] = [nodeNotReady, rollbackBadDeploy, pagerdutyIncidentTriage, scaleUpUnderLoad, revertBadPr];
