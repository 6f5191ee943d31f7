import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './api.harness';

const run = promisify(execFile);

/** Where PostgreSQL's server binaries live: PG_BIN, else the newest /usr/lib/postgresql/N/bin. */
function pgBin(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  if (!versions.length) throw new Error('PostgreSQL server binaries not found (set PG_BIN)');
  return path.join(root, versions[0], 'bin');
}

/**
 * A PostgreSQL of its own (initdb in /tmp, on a free port) that a test may stop and start
 * at will: the machine's shared server cannot be killed under the other suites. Runs as
 * the `postgres` user when the tests run as root (PostgreSQL refuses to run as root).
 */
export class PrivatePostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async create(): Promise<PrivatePostgres> {
    const dir = mkdtempSync('/tmp/pixmill-pg-');
    const port = await freePort();
    const pg = new PrivatePostgres(dir, port);
    if (userInfo().uid === 0) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    await pg.exec('initdb', ['-D', pg.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    await pg.start();
    return pg;
  }

  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /**
   * `fsync=off` only gives up durability across a crash of the machine, which no test makes.
   * Commits stay synchronous, as on a production server: with `synchronous_commit=off`, a
   * commit PostgreSQL has acknowledged can be lost in an immediate stop (the fault suite once
   * counted a job accepted with 202 whose row the restart did not bring back).
   */
  async start(): Promise<void> {
    const opts = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60 -c shared_buffers=32MB`;
    await this.exec('pg_ctl', ['-D', this.dataDir, '-o', opts, '-l', path.join(this.dir, 'server.log'), '-w', '-t', '60', 'start']);
  }

  /** `immediate` is a crash (no checkpoint, connections cut); `fast` a clean shutdown that terminates sessions. */
  async stop(mode: 'immediate' | 'fast' = 'immediate'): Promise<void> {
    await this.exec('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  async destroy(): Promise<void> {
    try {
      await this.stop('immediate');
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async exec(tool: string, args: string[]): Promise<void> {
    const bin = path.join(pgBin(), tool);
    const [file, argv] = userInfo().uid === 0 ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
    await run(file, argv, { cwd: '/tmp', timeout: 120_000 });
  }
}
