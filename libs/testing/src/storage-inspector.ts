import { readdir } from 'node:fs/promises';
import { join, posix, relative, resolve, sep } from 'node:path';
import { Pool } from 'pg';
import { LocalStorageDriver, S3StorageDriver, S3StorageDriverOptions, StorageDriver } from '@pixmill/storage';
import { TEST_DATABASE_URL } from './test-env';

/** What PostgreSQL says a user has stored. */
export interface StoredAccounting {
  /** Rows in `images` for the user. */
  imageRows: number;
  /** `users.storage_bytes`: the quota counter, reservations included. */
  storageBytes: number;
}

/**
 * Looks behind the API in e2e tests: which objects exist in the storage a running API and
 * worker use, and what the database accounts for a user. Used to prove that rejected
 * uploads leave nothing behind and that deletes are cleaned up.
 *
 *   const inspect = StorageInspector.local(api.config.storage.localDir);   // or .s3(s3.driverOptions)
 *   expect(await inspect.objects(`users/${user.id}/`)).toEqual([]);
 *   expect(await inspect.accounting(user.id)).toEqual({ imageRows: 0, storageBytes: 0 });
 *   await inspect.close();
 */
export class StorageInspector {
  private db?: Pool;

  private constructor(
    readonly driver: StorageDriver,
    /** Local driver only: the directory, to also see the driver's hidden temp and sidecar files. */
    private readonly localDir?: string,
  ) {}

  static local(dir: string): StorageInspector {
    return new StorageInspector(new LocalStorageDriver({ dir }), resolve(dir));
  }

  static s3(options: S3StorageDriverOptions): StorageInspector {
    return new StorageInspector(new S3StorageDriver(options));
  }

  /** Object keys under prefix, as the storage driver lists them. */
  objects(prefix: string): Promise<string[]> {
    return this.driver.list(prefix);
  }

  /**
   * Every file under prefix, including what list() hides with the local driver (temp files of
   * an aborted write, metadata sidecars). With S3 this is objects(prefix).
   */
  async leftovers(prefix: string): Promise<string[]> {
    if (!this.localDir) return this.objects(prefix);
    const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const files: string[] = [];
    await walk(join(this.localDir, base), files);
    return files
      .map((f) => relative(this.localDir as string, f).split(sep).join(posix.sep))
      .filter((key) => key.startsWith(prefix))
      .sort();
  }

  /** Polls until nothing is left under prefix (or timeoutMs passes); returns what is left. */
  waitUntilEmpty(prefix: string, timeoutMs = 15_000): Promise<string[]> {
    return pollUntil(() => this.leftovers(prefix), (left) => left.length === 0, timeoutMs);
  }

  async accounting(userId: string): Promise<StoredAccounting> {
    const db = await this.connection();
    // One statement, so both numbers come from the same snapshot.
    const res = await db.query<{ image_rows: string; storage_bytes: string }>(
      `SELECT (SELECT count(*) FROM images i WHERE i.user_id = u.id) AS image_rows, u.storage_bytes
         FROM users u WHERE u.id = $1`,
      [userId],
    );
    if (res.rowCount !== 1) throw new Error(`no user ${userId}`);
    return { imageRows: Number(res.rows[0].image_rows), storageBytes: Number(res.rows[0].storage_bytes) };
  }

  /** Polls accounting(userId) until `accept` holds (or timeoutMs passes); returns the last reading. */
  async waitForAccounting(
    userId: string,
    accept: (a: StoredAccounting) => boolean,
    timeoutMs = 15_000,
  ): Promise<StoredAccounting> {
    return pollUntil(() => this.accounting(userId), accept, timeoutMs);
  }

  async close(): Promise<void> {
    await this.db?.end();
    this.db = undefined;
  }

  /** A pool, not one client: a dropped connection is replaced on the next query instead of failing every later one. */
  private async connection(): Promise<Pool> {
    if (!this.db) {
      this.db = new Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
      this.db.on('error', () => undefined); // an idle connection that dies is simply discarded
    }
    return this.db;
  }
}

/**
 * Reads every `intervalMs` until `accept` holds or `timeoutMs` has passed, and returns the
 * last reading either way: the caller asserts on it, so a timeout fails with the real value.
 */
export async function pollUntil<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 15_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value) || Date.now() >= deadline) return value;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function walk(dir: string, into: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((err) => {
    if (err?.code === 'ENOENT' || err?.code === 'ENOTDIR') return [];
    throw err;
  });
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) await walk(full, into);
    else into.push(full);
  }
}
