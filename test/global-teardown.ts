export default async function globalTeardown(): Promise<void> {
  // The test database is kept after a run so failures can be inspected; the next run recreates it.
}
