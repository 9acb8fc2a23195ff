// A small YAML highlighter for the runbook and policy editors: keys, strings, numbers, booleans,
// comments, block scalars and `${{ … }}` templates. It colours text, it does not parse: the API is
// the judge of validity. Line by line, so an edit costs one pass over the document (no library: an
// editor framework would triple the editor pages' JavaScript).

export type TokenType = 'key' | 'string' | 'number' | 'keyword' | 'comment' | 'template' | 'punct' | 'text';

export interface Token {
  type: TokenType;
  text: string;
}

const KEYWORDS = new Set(['true', 'false', 'null', '~', 'yes', 'no', 'on', 'off', 'True', 'False', 'TRUE', 'FALSE', 'Null', 'NULL']);
const NUMBER = /^[-+]?(?:\d[\d_]*(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+|0x[\da-fA-F]+|0o[0-7]+|\.inf|\.nan)$/;
/** A key at the start of a mapping entry: a plain or quoted scalar followed by `:` and a space or the end. */
const KEY = /^(\s*)((?:-\s+)*)("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{}[\],:][^#{}[\],:]*?)(\s*:)(?=\s|$)/;
const BLOCK_SCALAR = /:\s*[|>][-+0-9]*\s*(?:#.*)?$/;

/** Splits a document into highlighted lines. */
export function tokenize(source: string): Token[][] {
  const lines = source.split('\n');
  const out: Token[][] = [];
  /** Indentation of the key that opened a block scalar (`key: |`); deeper lines are its text. */
  let blockIndent = -1;
  for (const line of lines) {
    const indent = line.length - line.trimStart().length;
    if (blockIndent >= 0) {
      if (line.trim() === '' || indent > blockIndent) {
        out.push(line ? [{ type: 'string', text: line }] : []);
        continue;
      }
      blockIndent = -1;
    }
    out.push(tokenizeLine(line));
    if (BLOCK_SCALAR.test(stripComment(line))) blockIndent = indent + (/^\s*-\s/.test(line) ? 2 : 0);
  }
  return out;
}

function tokenizeLine(line: string): Token[] {
  const tokens: Token[] = [];
  let rest = line;
  if (/^\s*#/.test(rest)) return [{ type: 'comment', text: rest }];
  if (/^(---|\.\.\.)\s*$/.test(rest)) return [{ type: 'punct', text: rest }];
  const key = KEY.exec(rest);
  if (key) {
    const [whole, space, dashes, name, colon] = key;
    if (space) tokens.push({ type: 'text', text: space });
    if (dashes) tokens.push({ type: 'punct', text: dashes });
    tokens.push({ type: 'key', text: name! });
    tokens.push({ type: 'punct', text: colon! });
    rest = rest.slice(whole.length);
  } else {
    const lead = /^(\s*)((?:-(?:\s+|$))*)/.exec(rest)!;
    if (lead[1]) tokens.push({ type: 'text', text: lead[1] });
    if (lead[2]) tokens.push({ type: 'punct', text: lead[2] });
    rest = rest.slice(lead[0].length);
  }
  tokens.push(...value(rest));
  return merge(tokens);
}

/** The value part of a line: flow collections, quoted and plain scalars, a trailing comment. */
function value(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const flow = insideFlow(tokens);
    const atStart = tokens.every((t) => t.type === 'text');
    if (ch === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      tokens.push({ type: 'comment', text: text.slice(i) });
      break;
    }
    if (/\s/.test(ch)) {
      const m = /^\s+/.exec(text.slice(i))![0];
      tokens.push({ type: 'text', text: m });
      i += m.length;
      continue;
    }
    if (ch === '"' || ch === "'") {
      const end = quotedEnd(text, i);
      tokens.push(...withTemplates(text.slice(i, end), 'string'));
      i = end;
      continue;
    }
    // `[`/`{` open a flow collection where a value starts; inside one, `]`, `}` and `,` are syntax.
    if (((ch === '{' || ch === '[') && (atStart || flow)) || (flow && '}],'.includes(ch))) {
      tokens.push({ type: 'punct', text: ch });
      i += 1;
      continue;
    }
    // A plain scalar runs to a comment (or, in a flow collection, to the next indicator).
    let j = i;
    while (j < text.length) {
      const c = text[j]!;
      if (c === '#' && /\s/.test(text[j - 1] ?? '')) break;
      if (flow && '{}[],'.includes(c)) break;
      if (text.startsWith('${{', j)) {
        const close = text.indexOf('}}', j + 3);
        j = close < 0 ? text.length : close + 2;
        continue;
      }
      j += 1;
    }
    const raw = text.slice(i, j);
    const word = raw.trimEnd();
    const flowKey = flow ? /^([^:]+?)(:)(?=\s|$)/.exec(word) : null;
    if (flowKey) {
      tokens.push({ type: 'key', text: flowKey[1]! }, { type: 'punct', text: ':' });
      i += flowKey[1]!.length + 1;
      continue;
    }
    tokens.push(...scalar(word));
    if (raw.length > word.length) tokens.push({ type: 'text', text: raw.slice(word.length) });
    i = j;
  }
  return tokens;
}

function insideFlow(tokens: Token[]): boolean {
  let depth = 0;
  for (const t of tokens) {
    if (t.type !== 'punct') continue;
    if (t.text === '{' || t.text === '[') depth += 1;
    if (t.text === '}' || t.text === ']') depth -= 1;
  }
  return depth > 0;
}

function scalar(word: string): Token[] {
  const trimmed = word.trim();
  if (KEYWORDS.has(trimmed)) return [{ type: 'keyword', text: word }];
  if (NUMBER.test(trimmed)) return [{ type: 'number', text: word }];
  if (/^[|>][-+0-9]*$/.test(trimmed)) return [{ type: 'punct', text: word }];
  return withTemplates(word, 'text');
}

/** `${{ … }}` inside a scalar, marked as templates. */
function withTemplates(text: string, base: TokenType): Token[] {
  const out: Token[] = [];
  let last = 0;
  for (const m of text.matchAll(/\$\{\{.*?\}\}/g)) {
    if (m.index > last) out.push({ type: base, text: text.slice(last, m.index) });
    out.push({ type: 'template', text: m[0] });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ type: base, text: text.slice(last) });
  return out;
}

/** Where a quoted scalar starting at `start` ends ('' escapes a single quote; \ escapes in double quotes). */
function quotedEnd(text: string, start: number): number {
  const q = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (q === '"' && text[i] === '\\') {
      i += 1;
      continue;
    }
    if (text[i] === q) {
      if (q === "'" && text[i + 1] === "'") {
        i += 1;
        continue;
      }
      return i + 1;
    }
  }
  return text.length;
}

function stripComment(line: string): string {
  return line.replace(/\s#.*$/, '');
}

function merge(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (const t of tokens) {
    if (!t.text) continue;
    const prev = out[out.length - 1];
    if (prev && prev.type === t.type && t.type !== 'template') prev.text += t.text;
    else out.push({ ...t });
  }
  return out;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** The document as HTML: one span per token (classes `t-key`, `t-string`, …), lines joined by newlines. */
export function highlightHtml(source: string): string {
  return tokenize(source)
    .map((line) => line.map((t) => (t.type === 'text' ? escapeHtml(t.text) : `<span class="t-${t.type}">${escapeHtml(t.text)}</span>`)).join(''))
    .join('\n');
}
