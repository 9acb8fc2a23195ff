import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import type { SourceError } from '../runbooks/types';
import { lineTooDeep, MAX_YAML_DEPTH } from './depth';
import type { SourcePath } from './path';

/** Runbooks and policies are small; anything larger is a mistake or an attack on the parser. */
export const MAX_YAML_BYTES = 256 * 1024;

/** Aliases can expand exponentially ("billion laughs"); real documents need only a few. */
const MAX_ALIAS_COUNT = 50;

export interface ParsedYaml {
  /** The document as plain JSON-like values; `undefined` when the text could not be parsed. */
  value: unknown;
  /** 1-based line of the node at `path`, or of the closest enclosing node that exists. */
  lineOf(path: SourcePath): number | undefined;
  errors: SourceError[];
}

/**
 * Parses one YAML (or JSON) document and keeps its node tree, so that problems found later —
 * by a schema or by semantic checks — can point at the line a user has to edit.
 */
export function parseYamlWithLines(text: string): ParsedYaml {
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > MAX_YAML_BYTES) {
    return failed([{ path: '', message: `document is too large (${bytes} bytes; the limit is ${MAX_YAML_BYTES})` }]);
  }
  // The parser recurses once per level: refuse hostile nesting before it can exhaust the stack.
  const deep = lineTooDeep(text);
  if (deep !== undefined) return failed([{ path: '', line: deep, message: `document nests deeper than ${MAX_YAML_DEPTH} levels` }]);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const lineOf = (path: SourcePath): number | undefined => locate(doc, lineCounter, path);
  const lineAt = (offset: number): number => lineCounter.linePos(offset).line;

  const errors: SourceError[] = doc.errors.map((err) =>
    err.code === 'MULTIPLE_DOCS'
      ? { path: '', line: lineAt(err.pos[0]), message: 'expected a single YAML document; remove the "---" separator and what follows' }
      : { path: '', line: lineAt(err.pos[0]), message: firstLine(err.message) },
  );
  if (errors.length > 0) return { value: undefined, lineOf, errors };

  if (doc.contents === null) return { value: undefined, lineOf, errors: [{ path: '', line: 1, message: 'document is empty' }] };
  if (!isMap(doc.contents)) {
    return { value: undefined, lineOf, errors: [{ path: '', line: lineOf([]), message: 'document must be a mapping of keys to values' }] };
  }

  try {
    return { value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), lineOf, errors: [] };
  } catch (err) {
    // toJS throws on alias explosions and on aliases to anchors that do not exist.
    return { value: undefined, lineOf, errors: [{ path: '', message: err instanceof Error ? err.message : String(err) }] };
  }
}

function failed(errors: SourceError[]): ParsedYaml {
  return { value: undefined, lineOf: () => undefined, errors };
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? message;
}

/**
 * Walks the node tree along `path`. For a mapping key the line of the key is returned (the value
 * of `steps:` starts on a later line, but the key is what a reader looks for); where the path
 * leaves the tree, the last node reached answers, e.g. the step that lacks a required `tool`.
 */
function locate(doc: Document, lines: LineCounter, path: SourcePath): number | undefined {
  const lineOfNode = (node: { range?: readonly number[] | null } | null | undefined): number | undefined => {
    const start = node?.range?.[0];
    return start === undefined ? undefined : lines.linePos(start).line;
  };
  let node: unknown = doc.contents;
  let line = lineOfNode(doc.contents as Node | null) ?? 1;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) return line;
      line = lineOfNode(pair.key as Node) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (item === undefined) return line;
      line = lineOfNode(item as Node) ?? line;
      node = item;
    } else {
      return line;
    }
  }
  return line;
}
