import { and, desc, eq, or } from 'drizzle-orm';
import type { DB } from '../db/client';
import { runbooks, runbookVersions } from '../db/schema';
import { newId } from '../lib/crypto';
import { ApiError } from '../lib/errors';
import { parseRunbook } from '../runbooks/parse';
import type { Runbook } from '../runbooks/types';

export interface StoredRunbook {
  id: string;
  name: string;
  description: string | null;
  version: number;
  yaml: string;
  spec: Runbook;
  archived: boolean;
  created_at: string;
  updated_at: string;
}

/** Parses and validates runbook YAML; a 400 with path, line and reason for each problem. */
export function validateRunbook(yaml: string): Runbook {
  const parsed = parseRunbook(yaml);
  if (!parsed.ok) throw ApiError.validation(parsed.errors, `Runbook is invalid: ${parsed.errors[0]?.message ?? 'unknown error'}`);
  return parsed.runbook;
}

/** Finds a tenant's runbook by id or name; other tenants' runbooks do not exist here. */
export async function findRunbook(db: DB, tenantId: string, idOrName: string) {
  const [row] = await db
    .select()
    .from(runbooks)
    .where(and(eq(runbooks.tenantId, tenantId), or(eq(runbooks.id, idOrName), eq(runbooks.name, idOrName))))
    .limit(1);
  return row;
}

/**
 * What a run starts from: a tenant's runbook (by id or name) with its current version's spec, in
 * one query (the listing row joined to that version only; the YAML and older versions stay in D1).
 */
export async function currentRunbook(db: DB, tenantId: string, idOrName: string) {
  const [row] = await db
    .select({ id: runbooks.id, name: runbooks.name, version: runbooks.version, archivedAt: runbooks.archivedAt, spec: runbookVersions.spec })
    .from(runbooks)
    .innerJoin(runbookVersions, and(eq(runbookVersions.runbookId, runbooks.id), eq(runbookVersions.tenantId, runbooks.tenantId), eq(runbookVersions.version, runbooks.version)))
    .where(and(eq(runbooks.tenantId, tenantId), or(eq(runbooks.id, idOrName), eq(runbooks.name, idOrName))))
    .limit(1);
  return row && { ...row, spec: row.spec as Runbook };
}

export async function createRunbook(db: DB, tenantId: string, yaml: string, actorId: string) {
  const spec = validateRunbook(yaml);
  const existing = await findRunbook(db, tenantId, spec.metadata.name);
  if (existing) {
    throw new ApiError('conflict', `Runbook "${spec.metadata.name}" already exists; update it with PUT /api/v1/runbooks/${spec.metadata.name}`);
  }
  const id = newId('rb');
  const description = spec.metadata.description ?? null;
  // One batch: the runbook and its first version land together or not at all.
  await db.batch([
    db.insert(runbooks).values({ id, tenantId, name: spec.metadata.name, description, version: 1 }),
    db.insert(runbookVersions).values({ runbookId: id, tenantId, version: 1, yaml, spec, createdBy: actorId }),
  ]);
  return { id, name: spec.metadata.name, version: 1 };
}

export async function updateRunbook(db: DB, tenantId: string, idOrName: string, yaml: string, actorId: string) {
  const row = await findRunbook(db, tenantId, idOrName);
  if (!row) throw ApiError.notFound('Runbook');
  const spec = validateRunbook(yaml);
  if (spec.metadata.name !== row.name) {
    throw ApiError.validation([{ path: 'metadata.name', message: `must stay "${row.name}" (create a new runbook to rename)` }]);
  }
  const version = row.version + 1;
  const now = new Date().toISOString();
  // The version check in the WHERE makes concurrent updates conflict instead of overwriting.
  const [, updated] = await db.batch([
    db.insert(runbookVersions).values({ runbookId: row.id, tenantId, version, yaml, spec, createdBy: actorId }),
    db
      .update(runbooks)
      .set({ version, description: spec.metadata.description ?? null, updatedAt: now, archivedAt: null })
      .where(and(eq(runbooks.id, row.id), eq(runbooks.version, row.version)))
      .returning({ id: runbooks.id }),
  ]);
  if (updated.length === 0) throw new ApiError('conflict', 'Runbook changed concurrently; retry');
  return { id: row.id, name: row.name, version };
}

export async function getRunbook(db: DB, tenantId: string, idOrName: string, version?: number): Promise<StoredRunbook & { versions: { version: number; created_at: string; created_by: string | null }[] }> {
  const row = await findRunbook(db, tenantId, idOrName);
  if (!row) throw ApiError.notFound('Runbook');
  const versions = await db
    .select({ version: runbookVersions.version, yaml: runbookVersions.yaml, spec: runbookVersions.spec, created_at: runbookVersions.createdAt, created_by: runbookVersions.createdBy })
    .from(runbookVersions)
    .where(and(eq(runbookVersions.runbookId, row.id), eq(runbookVersions.tenantId, tenantId)))
    .orderBy(desc(runbookVersions.version));
  const wanted = version ?? row.version;
  const current = versions.find((v) => v.version === wanted);
  if (!current) throw ApiError.notFound(`Runbook version ${wanted}`);
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    version: current.version,
    yaml: current.yaml,
    spec: current.spec as Runbook,
    archived: row.archivedAt !== null,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
    versions: versions.map(({ version: v, created_at, created_by }) => ({ version: v, created_at, created_by })),
  };
}

export async function listRunbooks(db: DB, tenantId: string, includeArchived: boolean) {
  const rows = await db.select().from(runbooks).where(eq(runbooks.tenantId, tenantId)).orderBy(runbooks.name);
  return rows
    .filter((r) => includeArchived || r.archivedAt === null)
    .map((r) => ({ id: r.id, name: r.name, description: r.description, version: r.version, updated_at: r.updatedAt, archived: r.archivedAt !== null }));
}

export async function archiveRunbook(db: DB, tenantId: string, idOrName: string) {
  const row = await findRunbook(db, tenantId, idOrName);
  if (!row) throw ApiError.notFound('Runbook');
  const now = new Date().toISOString();
  await db.update(runbooks).set({ archivedAt: now, updatedAt: now }).where(and(eq(runbooks.id, row.id), eq(runbooks.tenantId, tenantId)));
  return { id: row.id, name: row.name, version: row.version, archived: true };
}
