/** Deeper than any real runbook or policy; deep enough nesting overflows the parser's stack. */
export const MAX_YAML_DEPTH = 64;

/**
 * The first line on which a YAML text nests deeper than `max`, found in one pass over the
 * characters and before the parser (which recurses per level) sees it. It counts the levels a
 * parser would: block indentation, `- ` and `? ` entries, and open `[`/`{` outside quotes and
 * comments. Block scalars (`|`, `>`) are skipped, so indented prose does not count.
 */
export function lineTooDeep(text: string, max = MAX_YAML_DEPTH): number | undefined {
  const indents: number[] = []; // block levels open at this point, by column
  let flow = 0; // open flow collections
  let quote: '"' | "'" | undefined;
  let blockScalarIndent = -1; // while ≥ 0, lines indented deeper belong to a block scalar
  let line = 0;
  let pos = 0;
  while (pos <= text.length) {
    line += 1;
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    let i = pos;
    while (i < end && text[i] === ' ') i += 1;
    const blank = i === end || text[i] === '#' || text[i] === '\r';
    if (blockScalarIndent >= 0) {
      if (blank || i - pos > blockScalarIndent) {
        pos = end + 1;
        continue;
      }
      blockScalarIndent = -1;
    }
    if (!blank && quote === undefined && flow === 0) {
      // A block line: close the levels it dedents out of, then open one per entry marker.
      const column = i - pos;
      while (indents.length > 0 && indents[indents.length - 1]! >= column) indents.pop();
      indents.push(column);
      while ((text[i] === '-' || text[i] === '?') && (text[i + 1] === ' ' || i + 1 === end)) {
        i += 2;
        while (i < end && text[i] === ' ') i += 1;
        if (i < end) indents.push(i - pos);
      }
    }
    let previous = ' ';
    let contentEnd = end;
    for (; i < end; i++) {
      const ch = text[i]!;
      if (quote !== undefined) {
        if (ch === '\\' && quote === '"') i += 1;
        else if (ch === quote) {
          if (quote === "'" && text[i + 1] === "'") i += 1;
          else quote = undefined;
        }
      } else if (ch === '#' && (previous === ' ' || previous === '\t')) {
        contentEnd = i;
        break;
      } else if ((ch === '"' || ch === "'") && ' \t[{,:'.includes(previous)) {
        quote = ch;
      } else if (ch === '[' || ch === '{') {
        flow += 1;
      } else if ((ch === ']' || ch === '}') && flow > 0) {
        flow -= 1;
      }
      previous = ch;
      if (indents.length + flow > max) return line;
    }
    if (indents.length + flow > max) return line;
    if (quote === undefined && flow === 0 && opensBlockScalar(text, pos, contentEnd)) blockScalarIndent = lineIndent(text, pos, end);
    pos = end + 1;
  }
  return undefined;
}

/** `key: |`, `- >-`, `|2+`: the line ends (before any comment) with a block scalar header. */
function opensBlockScalar(text: string, start: number, end: number): boolean {
  let j = end - 1;
  while (j >= start && (text[j] === ' ' || text[j] === '\t' || text[j] === '\r')) j -= 1;
  let indicators = 0;
  while (j >= start && indicators < 2 && /[0-9+-]/.test(text[j]!)) {
    j -= 1;
    indicators += 1;
  }
  if (j < start || (text[j] !== '|' && text[j] !== '>')) return false;
  return j === start || text[j - 1] === ' ' || text[j - 1] === '\t';
}

function lineIndent(text: string, start: number, end: number): number {
  let i = start;
  while (i < end && text[i] === ' ') i += 1;
  return i - start;
}
