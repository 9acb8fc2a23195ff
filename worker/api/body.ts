import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { ApiError, zodDetails } from '../lib/errors';
import { YamlBodySchema } from './schemas';

export const MAX_DOCUMENT_BYTES = 256 * 1024;

/**
 * Reads a YAML document from the request: raw YAML (`application/yaml`, `text/yaml`,
 * `text/plain`) or JSON `{ "yaml": "…" }`.
 */
export async function readYamlDocument(c: Context<AppEnv>): Promise<string> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  // Decoded by hand: the runtime warns when .text() is used on a body it does not consider text (YAML).
  const text = new TextDecoder().decode(await c.req.arrayBuffer());
  if (text.length > MAX_DOCUMENT_BYTES) throw new ApiError('payload_too_large', `Document is larger than ${MAX_DOCUMENT_BYTES} bytes`);
  if (type === 'application/json') {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ApiError('bad_request', 'Malformed JSON in request body', [{ path: '(body)', message: 'is not valid JSON' }]);
    }
    const parsed = YamlBodySchema.safeParse(body);
    if (!parsed.success) throw ApiError.validation(zodDetails(parsed.error));
    return parsed.data.yaml;
  }
  if (['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'text/plain'].includes(type)) {
    if (text.trim() === '') throw ApiError.validation([{ path: '(body)', message: 'YAML document is empty' }]);
    return text;
  }
  throw new ApiError('unsupported_media_type', 'Send YAML as application/yaml, or JSON { "yaml": "…" }');
}
