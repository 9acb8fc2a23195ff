import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` writes SQL migrations into migrations/; wrangler applies them
// (`wrangler d1 migrations apply DB --local` or `--remote`).
export default defineConfig({
  dialect: 'sqlite',
  schema: './worker/db/schema.ts',
  out: './migrations',
  migrations: { prefix: 'index' },
});
