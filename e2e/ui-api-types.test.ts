// The UI's API types (web/src/lib/api-types.ts) are generated from the OpenAPI document; this
// regenerates them from the document the running server publishes and fails when the committed
// file is stale (run `node web/scripts/gen-api-types.mjs`, or `npm run gen:api`).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { generate } from '../web/scripts/openapi-to-ts.mjs';
import { ROOT } from './helpers';

const { url } = inject('e2e');

describe('the UI API types', () => {
  it('match the live OpenAPI document', async () => {
    const res = await fetch(`${url}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    const generated = generate(await res.json());
    const committed = readFileSync(path.join(ROOT, 'web', 'src', 'lib', 'api-types.ts'), 'utf8');
    expect(generated === committed, 'web/src/lib/api-types.ts is stale: run `node web/scripts/gen-api-types.mjs`').toBe(true);
  });
});
