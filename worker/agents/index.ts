// The agents layer (DESIGN §6): providers, the three agents, their traces. The run engine needs only these.
export { describeAgentConfig, loadAgentConfig, type AgentConfig, type AgentConfigSummary, type AgentSettings } from './config';
export { AgentError, type AgentErrorCode } from './errors';
export { createProvider, type Provider, type ProviderName, type StructuredRequest, type StructuredResult, type Usage } from './provider';
export { priceFor, costOf, VENDOR_PRICES, type Price, type PriceTable } from './pricing';
export { allowedTools } from './allowed-tools';
export { planRun, type PlannerInput, type PlanOutcome, type PastRun } from './planner';
export { validatePlan, runbookPlan, stepSpec, type PlannedStep, type PlanRejection, type ValidatedPlan } from './plan';
export { fillArgs, type ToolcallerInput, type FillOutcome, type ArgRejection } from './toolcaller';
export { reviewCall, tighten, REVIEWER_APPROVAL, type Review, type ReviewInput, type ReviewOutcome, type ReviewedDecision } from './reviewer';
export type { AgentTrace, AgentRole } from './trace';
export { PLANNER, TOOLCALLER, REVIEWER, MAX_ADDED_STEPS } from './prompts';
