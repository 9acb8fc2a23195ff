import { and, desc, eq } from 'drizzle-orm';
import type { DB } from '../db/client';
import { canonicalJson, sha256Hex } from '../lib/crypto';
import { afterCursor } from '../lib/cursor';
import { ApiError } from '../lib/errors';
import type { EvalReport } from './eval-report';
import { evalReports } from './tables';

export interface EvalReportSummary {
  id: string;
  created_at: string;
  provider: string;
  model: string;
  cases: number;
  passed: number;
  metrics: Record<string, number | null>;
  uploaded_at: string;
  uploaded_by: string | null;
}

type Row = typeof evalReports.$inferSelect;
type SummaryRow = Pick<Row, 'id' | 'createdAt' | 'provider' | 'model' | 'cases' | 'passed' | 'metrics' | 'uploadedAt' | 'uploadedBy'>;

/** The columns a list needs: the stored report itself can be large, and only the detail reads it. */
const SUMMARY_COLUMNS = {
  id: evalReports.id,
  createdAt: evalReports.createdAt,
  provider: evalReports.provider,
  model: evalReports.model,
  cases: evalReports.cases,
  passed: evalReports.passed,
  metrics: evalReports.metrics,
  uploadedAt: evalReports.uploadedAt,
  uploadedBy: evalReports.uploadedBy,
};

function summary(row: SummaryRow): EvalReportSummary {
  return {
    id: row.id,
    created_at: row.createdAt,
    provider: row.provider,
    model: row.model,
    cases: row.cases,
    passed: row.passed,
    metrics: row.metrics as Record<string, number | null>,
    uploaded_at: row.uploadedAt,
    uploaded_by: row.uploadedBy,
  };
}

/**
 * Stores an uploaded report. The same report uploaded again (a retried CI step) answers with the
 * stored one; another report under a stored id is a conflict, never an overwrite.
 */
export async function saveEvalReport(db: DB, tenantId: string, report: EvalReport, uploadedBy: string): Promise<{ created: boolean; summary: EvalReportSummary }> {
  const digest = await sha256Hex(canonicalJson(report));
  const inserted = await db
    .insert(evalReports)
    .values({
      tenantId,
      id: report.id,
      provider: report.provider,
      model: report.model,
      cases: report.cases,
      passed: report.passed,
      metrics: report.metrics,
      report,
      digest,
      createdAt: report.created_at,
      uploadedBy,
    })
    .onConflictDoNothing()
    .returning(SUMMARY_COLUMNS);
  if (inserted[0]) return { created: true, summary: summary(inserted[0]) };
  const existing = await findRow(db, tenantId, report.id);
  if (!existing || existing.digest !== digest) {
    throw new ApiError('conflict', `An evaluation report with id "${report.id}" was already uploaded with other contents`);
  }
  return { created: false, summary: summary(existing) };
}

async function findRow(db: DB, tenantId: string, id: string): Promise<Row | undefined> {
  const [row] = await db.select().from(evalReports).where(and(eq(evalReports.tenantId, tenantId), eq(evalReports.id, id))).limit(1);
  return row;
}

/** Newest first (by when the suite ran); `before` is the previous page's cursor (lib/cursor.ts). */
export async function listEvalReports(db: DB, tenantId: string, limit: number, before?: string): Promise<EvalReportSummary[]> {
  const where = before ? and(eq(evalReports.tenantId, tenantId), afterCursor(evalReports.createdAt, evalReports.id, before)) : eq(evalReports.tenantId, tenantId);
  const rows = await db
    .select(SUMMARY_COLUMNS)
    .from(evalReports)
    .where(where)
    .orderBy(desc(evalReports.createdAt), desc(evalReports.id))
    .limit(limit);
  return rows.map(summary);
}

export async function getEvalReport(db: DB, tenantId: string, id: string): Promise<(EvalReport & { uploaded_at: string; uploaded_by: string | null }) | undefined> {
  const row = await findRow(db, tenantId, id);
  if (!row) return undefined;
  return { ...(row.report as EvalReport), uploaded_at: row.uploadedAt, uploaded_by: row.uploadedBy };
}
