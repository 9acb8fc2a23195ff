import { describe, expect, it } from 'vitest';
import { escapeHtml, highlightHtml, tokenize, type Token } from './yaml-highlight';

const types = (line: Token[]) => line.filter((t) => t.type !== 'text' || t.text.trim()).map((t) => `${t.type}:${t.text.trim()}`);

describe('YAML highlighting', () => {
  it('marks keys, scalars by kind, and comments', () => {
    const [a, b, c, d] = tokenize('name: node-not-ready # the id\ncount: 3\nenabled: true\n# just a comment');
    expect(types(a!)).toEqual(['key:name', 'punct::', 'text:node-not-ready', 'comment:# the id']);
    expect(types(b!)).toEqual(['key:count', 'punct::', 'number:3']);
    expect(types(c!)).toEqual(['key:enabled', 'punct::', 'keyword:true']);
    expect(types(d!)).toEqual(['comment:# just a comment']);
  });

  it('keeps every character, in order', () => {
    const doc = "spec:\n  steps:\n    - id: drain # x\n      with: { cluster: '${{ inputs.cluster }}', node: \"a#b\" }\n";
    expect(tokenize(doc).map((l) => l.map((t) => t.text).join('')).join('\n')).toBe(doc);
  });

  it('marks list items, flow mappings and templates inside quoted strings', () => {
    const [line] = tokenize("    - id: drain");
    expect(types(line!)).toEqual(['punct:-', 'key:id', 'punct::', 'text:drain']);
    const [flow] = tokenize("with: { cluster: '${{ inputs.cluster }}', replicas: 3 }");
    expect(types(flow!)).toEqual([
      'key:with', 'punct::', 'punct:{', 'key:cluster', 'punct::', "string:'", 'template:${{ inputs.cluster }}', "string:'", 'punct:,', 'key:replicas', 'punct::', 'number:3', 'punct:}',
    ]);
  });

  it('does not take a # inside a string or a word for a comment, nor a comma in a plain scalar for syntax', () => {
    const [a, b] = tokenize('summary: "issue #12"\ndescription: drained, then ticketed #done');
    expect(types(a!)).toEqual(['key:summary', 'punct::', 'string:"issue #12"']);
    expect(types(b!)).toEqual(['key:description', 'punct::', 'text:drained, then ticketed', 'comment:#done']);
  });

  it('treats the lines of a block scalar as text of the string', () => {
    const lines = tokenize('description: |\n  line one: not a key\n  # not a comment\nnext: 1');
    expect(types(lines[1]!)).toEqual(['string:line one: not a key']);
    expect(types(lines[2]!)).toEqual(['string:# not a comment']);
    expect(types(lines[3]!)).toEqual(['key:next', 'punct::', 'number:1']);
  });

  it('escapes HTML so a document can never inject markup', () => {
    const html = highlightHtml('name: "<img src=x onerror=alert(1)>"\n# <script>');
    expect(html).not.toMatch(/<img|<script/);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });
});
