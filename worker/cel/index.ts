export { CelError } from './error';
export { compileCel, clearCelCache, MAX_EXPRESSION_LENGTH, type CompiledCel, type CompileResult } from './compile';
export { evalCel, evalCondition, type CelVars } from './evaluate';
export {
  resolveTemplates,
  templateExpressions,
  templateSites,
  hasTemplate,
  splitTemplate,
  referencedSteps,
  referencedMembers,
  type TemplatePart,
  type TemplateSite,
} from './templates';
export { freeVariables, memberNames, type CelExpr } from './ast';
export { toCelInput, fromCelValue } from './values';
