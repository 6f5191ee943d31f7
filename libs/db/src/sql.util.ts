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
