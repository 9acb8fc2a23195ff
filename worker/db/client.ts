import { drizzle } from 'drizzle-orm/d1';
import * as schema from './schema';

function build(d1: D1Database) {
  return drizzle(d1, { schema });
}

export type DB = ReturnType<typeof build>;

/**
 * Building a drizzle instance walks the whole schema (its relational config): a profile of 500
 * concurrent runs spent a few percent of the isolate's time there. One instance per binding.
 */
const instances = new WeakMap<D1Database, DB>();

export function makeDb(d1: D1Database): DB {
  let db = instances.get(d1);
  if (!db) instances.set(d1, (db = build(d1)));
  return db;
}
