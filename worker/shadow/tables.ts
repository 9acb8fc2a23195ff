// The D1 tables of shadow runs and evaluation reports live in worker/db/schema.ts (where
// drizzle-kit reads the schema); re-exported here for the shadow and eval modules.
export { evalReports, shadowExpectations } from '../db/schema';
