export { parseYamlWithLines, MAX_YAML_BYTES, type ParsedYaml } from './parse';
export { validateWithSchema, issuesToSourceErrors, sortByLine, valueAt, type SchemaResult } from './validate';
export { formatPath, toSourcePath, type SourcePath } from './path';
export { closest, didYouMean, editDistance } from './did-you-mean';
export { knownKeysAt, schemaAt } from './schema-walk';
