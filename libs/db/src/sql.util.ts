import type { DataSource } from 'typeorm';

/**
 * TypeORM's raw `query()` on PostgreSQL answers INSERT/SELECT with the rows but
 * UPDATE/DELETE with `[rows, rowCount]`. This returns the rows in both cases.
 */
export function returnedRows<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return result as T[];
}

/** The pg connection pool behind a TypeORM DataSource. */
interface PgPool {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * A statement on the hot path of every job, as a named prepared statement straight on the
 * pg pool: PostgreSQL parses and plans it once per connection instead of on every call (the
 * job statements are CTEs whose planning costs more than their execution), and TypeORM's
 * per-call query runner is skipped. Errors are pg's own (`err.code`), not QueryFailedError.
 */
export async function preparedQuery<T>(ds: DataSource, name: string, text: string, values: unknown[]): Promise<T[]> {
  const pool = (ds.driver as unknown as { master: PgPool }).master;
  return (await pool.query({ name, text, values })).rows as T[];
}

/** The PostgreSQL error code of a failed statement, made through TypeORM or straight through pg. */
export function pgErrorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; driverError?: { code?: unknown } };
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}
