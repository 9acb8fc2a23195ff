// Turns the API's OpenAPI 3.1 document into TypeScript: one type per component schema and one entry
// per operation (path parameters, query, JSON body, success response), keyed "METHOD /path".
//
// Why a small generator of our own: openapi-typescript needs TypeScript 5 (this repo is on 6), and
// sharing the Worker's zod schemas with the browser would pull zod and the server's module graph
// into the UI bundle. The document is generated from those same zod schemas, so types generated from
// it cannot drift from what the server validates — web/src/lib/api-types.test.ts and the e2e suite
// regenerate it and fail when the committed file is stale.
//
// It covers the JSON Schema the document uses: $ref, allOf/anyOf/oneOf, enum/const, type arrays
// (nullable), objects with properties and/or additionalProperties, arrays, and the scalar types.

const HEADER = `// Generated from the API's OpenAPI document by web/scripts/gen-api-types.mjs: do not edit.
// Regenerate after changing an API schema: \`node web/scripts/gen-api-types.mjs\` (npm run gen:api).
/* eslint-disable */
`;

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const IDENT = /^[A-Za-z_$][\w$]*$/;

/** @param {Record<string, any>} doc the OpenAPI document */
export function generate(doc) {
  const out = [HEADER];
  const schemas = doc.components?.schemas ?? {};

  out.push('/** The named schemas of the API (`components.schemas`). */');
  out.push('export interface Schemas {');
  for (const [name, raw] of Object.entries(schemas)) {
    const schema = withoutSelfReference(name, raw);
    out.push(...doc_(schema.description, '  '));
    out.push(`  ${key(name)}: ${toTs(schema, '  ')};`);
  }
  out.push('}', '');

  out.push('/** Every operation: `path` and `query` parameters, the JSON `body`, and the success `response`. */');
  out.push('export interface Operations {');
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      out.push(...doc_(op.summary, '  '));
      out.push(`  ${key(`${method.toUpperCase()} ${path}`)}: {`);
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])];
      for (const where of ['path', 'query']) {
        const list = params.filter((p) => p.in === where);
        if (list.length === 0) continue;
        out.push(`    ${where}: {`);
        for (const p of list) {
          out.push(...doc_(p.description ?? p.schema?.description, '      '));
          // Query parameters with a default may be left out, whatever `required` says.
          const optional = where === 'query' ? !p.required || p.schema?.default !== undefined : !p.required;
          out.push(`      ${key(p.name)}${optional ? '?' : ''}: ${toTs(p.schema ?? {}, '      ')};`);
        }
        out.push('    };');
      }
      const body = op.requestBody?.content?.['application/json']?.schema;
      if (body) out.push(`    body${op.requestBody.required === false ? '?' : ''}: ${toTs(body, '    ')};`);
      out.push(`    response: ${toTs(successSchema(op), '    ')};`);
      out.push('  };');
    }
  }
  out.push('}', '');
  out.push('export type OperationKey = keyof Operations;', '');
  return out.join('\n');
}

/**
 * Two zod schemas registered under one name make the extended one `allOf: [{ $ref: itself }, …]`,
 * a type that contains itself. The base's fields are lost from the document either way; the part
 * the document does describe is kept, with a note, rather than emitting a circular type.
 */
function withoutSelfReference(name, schema) {
  const self = `#/components/schemas/${name}`;
  if (!Array.isArray(schema.allOf) || !schema.allOf.some((s) => s?.$ref === self)) return schema;
  console.warn(`openapi-to-ts: schema ${name} extends itself (two schemas share the name); its base fields are missing from the document`);
  const rest = schema.allOf.filter((s) => s?.$ref !== self);
  const note = `${schema.description ? `${schema.description}\n` : ''}Incomplete: two API schemas are registered as "${name}"; the document lost the base's fields.`;
  return { ...schema, allOf: rest.length > 0 ? rest : [{}], description: note };
}

/** The JSON schema of the first 2xx answer; `unknown` for operations that answer something else. */
function successSchema(op) {
  for (const status of Object.keys(op.responses ?? {}).sort()) {
    if (!/^2\d\d$/.test(status)) continue;
    const schema = op.responses[status]?.content?.['application/json']?.schema;
    if (schema) return schema;
  }
  return {};
}

/** @param {any} s a JSON schema @param {string} indent */
export function toTs(s, indent = '') {
  if (s === true || s === undefined || s === null) return 'unknown';
  if (s === false) return 'never';
  if (s.$ref) {
    const name = String(s.$ref).replace(/^#\/components\/schemas\//, '');
    return `Schemas[${JSON.stringify(name)}]`;
  }
  if (s.allOf) return join(s.allOf.map((x) => toTs(x, indent)), ' & ');
  if (s.anyOf || s.oneOf) return join((s.anyOf ?? s.oneOf).map((x) => toTs(x, indent)), ' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (Array.isArray(s.type)) return join(s.type.map((t) => toTs({ ...s, type: t }, indent)), ' | ');
  switch (s.type) {
    case 'string':
      return 'string';
    case 'number':
    case 'integer':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array': {
      const item = toTs(s.items ?? {}, indent);
      return /^[\w$."[\]]+$/.test(item) ? `${item}[]` : `Array<${item}>`;
    }
    case 'object':
      return objectTs(s, indent);
    default:
      return s.properties || s.additionalProperties ? objectTs(s, indent) : 'unknown';
  }
}

function objectTs(s, indent) {
  const props = Object.entries(s.properties ?? {});
  const extra = s.additionalProperties;
  const record = extra === undefined || extra === false ? undefined : `Record<string, ${toTs(extra === true ? {} : extra, indent)}>`;
  if (props.length === 0) return record ?? 'Record<string, never>';
  const required = new Set(s.required ?? []);
  const inner = `${indent}  `;
  const lines = ['{'];
  for (const [name, schema] of props) {
    lines.push(...doc_(schema.description, inner));
    lines.push(`${inner}${key(name)}${required.has(name) ? '' : '?'}: ${toTs(schema, inner)};`);
  }
  lines.push(`${indent}}`);
  const shape = lines.join('\n');
  return record ? `${shape} & ${record}` : shape;
}

function join(parts, sep) {
  const unique = [...new Set(parts)];
  if (unique.length === 1) return unique[0];
  return unique.map((p) => (p.includes('\n') || (sep === ' & ' && p.includes(' | ')) ? `(${p})` : p)).join(sep);
}

function key(name) {
  return IDENT.test(name) ? name : JSON.stringify(name);
}

function doc_(text, indent) {
  if (!text) return [];
  const clean = String(text).replace(/\*\//g, '*\\/');
  const lines = clean.split('\n');
  if (lines.length === 1) return [`${indent}/** ${clean} */`];
  return [`${indent}/**`, ...lines.map((l) => `${indent} * ${l}`.trimEnd()), `${indent} */`];
}
