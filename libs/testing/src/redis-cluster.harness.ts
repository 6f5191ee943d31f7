import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './api.harness';

const run = promisify(execFile);

/**
 * A real Redis Cluster of six `redis-server --cluster-enabled yes` on free ports, three
 * masters with a replica each (`redis-cli --cluster create --cluster-replicas 1`), no
 * persistence, and a short node timeout so a killed master fails over within seconds.
 */
export class RedisClusterHarness {
  private readonly procs = new Map<number, ChildProcess>();

  private constructor(
    readonly ports: number[],
    private readonly dir: string,
  ) {}

  static async start(nodes = 6): Promise<RedisClusterHarness> {
    const ports: number[] = [];
    while (ports.length < nodes) {
      const p = await freePort();
      // The cluster bus listens on port + 10000: keep both in range and distinct.
      if (p + 10000 < 65536 && !ports.includes(p)) ports.push(p);
    }
    const h = new RedisClusterHarness(ports, mkdtempSync('/tmp/pixmill-redis-cluster-'));
    for (const port of ports) {
      const child = spawn(
        'redis-server',
        [
          '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
          '--cluster-config-file', path.join(h.dir, `nodes-${port}.conf`), '--cluster-node-timeout', '1500',
          '--save', '', '--appendonly', 'no', '--dir', h.dir, '--dbfilename', `dump-${port}.rdb`,
          // A replica syncs at once rather than after the default 5 s wait for more replicas.
          '--repl-diskless-sync-delay', '0',
        ],
        { stdio: 'ignore' },
      );
      h.procs.set(port, child);
    }
    for (const port of ports) await h.waitFor(async () => (await h.cli(port, 'ping')).trim() === 'PONG', 20_000);
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: 60_000 });
    await h.waitUntilOk();
    // A replica that has never synced with its master does not take over when the master dies
    // (its data is too old to be elected): the cluster is ready when every replica has synced.
    await h.waitFor(async () => {
      for (const port of ports) {
        const info = await h.cli(port, 'info', 'replication');
        if (/role:slave/.test(info) && !/master_link_status:up/.test(info)) return false;
      }
      return true;
    }, 30_000);
    return h;
  }

  get url(): string {
    return `redis-cluster://${this.ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
  }

  cli(port: number, ...args: string[]): Promise<string> {
    return run('redis-cli', ['-p', String(port), ...args], { timeout: 10_000 }).then((r) => r.stdout);
  }

  /** The port of the master that serves `key`'s slot now. */
  async masterOf(key: string): Promise<number> {
    const live = this.livePorts();
    const slot = Number((await this.cli(live[0], 'cluster', 'keyslot', key)).trim());
    const nodes = await this.cli(live[0], 'cluster', 'nodes');
    for (const line of nodes.trim().split('\n')) {
      const [, addr, flags, , , , , state, ...ranges] = line.split(' ');
      if (!flags.includes('master') || flags.includes('fail') || state !== 'connected') continue;
      for (const r of ranges) {
        const [a, b] = r.split('-').map(Number);
        if (slot >= a && slot <= (b ?? a)) return Number(addr.split(':')[1].split('@')[0]);
      }
    }
    throw new Error(`no master serves slot ${slot}`);
  }

  /** SIGKILL one node, as a crashed machine. */
  async kill(port: number): Promise<void> {
    const c = this.procs.get(port);
    if (!c) return;
    this.procs.delete(port);
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  }

  /** Until every live node says cluster_state:ok and every slot is served. */
  async waitUntilOk(timeoutMs = 30_000): Promise<void> {
    await this.waitFor(async () => {
      for (const port of this.livePorts()) {
        const info = await this.cli(port, 'cluster', 'info');
        if (!/cluster_state:ok/.test(info) || !/cluster_slots_ok:16384/.test(info)) return false;
      }
      return true;
    }, timeoutMs);
  }

  async stop(): Promise<void> {
    for (const port of [...this.procs.keys()]) await this.kill(port);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private livePorts(): number[] {
    return this.ports.filter((p) => this.procs.has(p));
  }

  private async waitFor(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        if (await probe()) return;
      } catch {
        // not yet
      }
      if (Date.now() > deadline) throw new Error('Redis Cluster not ready in time');
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
