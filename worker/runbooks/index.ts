export { parseRunbook, type ParseRunbookResult } from './parse';
export { resolveInputs, checkInputValue, type InputsResult } from './inputs';
export { resolveStepArgs, resolveVerifyArgs, validateLiteralArgs, defaultVerifyArgs, checkToolArgs, type ArgsResult } from './tool-args';
export { checkExpression, STEP_VARIABLES, TRIGGER_VARIABLES, type ExpressionScope } from './expressions';
export { runbookDocumentSchema, INPUT_TYPES } from './schema';
export type { Runbook, RunbookStep, RunbookInput, RunbookTrigger, OnFailure, SourceError } from './types';
