/**
 * Jira REST v3 takes rich text (descriptions, comments) as Atlassian Document Format. Runbooks
 * give plain text: blank lines separate paragraphs, single newlines become hard breaks. ADF
 * rejects empty text nodes, so blank lines never produce one.
 */

interface AdfNode {
  type: string;
  text?: string;
  content?: AdfNode[];
}

export interface AdfDoc {
  type: 'doc';
  version: 1;
  content: AdfNode[];
}

function paragraph(block: string): AdfNode {
  const content: AdfNode[] = [];
  for (const line of block.split('\n')) {
    if (content.length) content.push({ type: 'hardBreak' });
    if (line !== '') content.push({ type: 'text', text: line });
  }
  return { type: 'paragraph', content };
}

export function adf(text: string): AdfDoc {
  const blocks = text
    .replace(/\r\n?/g, '\n')
    .split(/\n\s*\n/)
    .map((block) => block.replace(/^\n+|\n+$/g, ''))
    .filter((block) => block.trim() !== '');
  return { type: 'doc', version: 1, content: blocks.map(paragraph) };
}
