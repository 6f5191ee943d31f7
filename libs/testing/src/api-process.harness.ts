import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from './api.harness';
import { testEnv } from './test-config';

const ROOT = path.resolve(__dirname, '../../..');

export interface ApiProcess {
  child: ChildProcess;
  baseUrl: string;
  /** Resolves with the exit code, or the signal that ended it. */
  exited: Promise<number | NodeJS.Signals | null>;
  output(): string;
  kill(): Promise<void>;
}

/**
 * Runs apps/api as a separate OS process straight from TypeScript, for tests in
 * which the API itself dies (the in-process API of startApi would take jest with it).
 */
export async function startApiProcess(overrides: Record<string, string> = {}, startTimeoutMs = 60_000): Promise<ApiProcess> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    ...testEnv({ LOG_LEVEL: 'info', PORT: String(port), PUBLIC_BASE_URL: baseUrl, ...overrides }),
    TS_NODE_TRANSPILE_ONLY: 'true',
    TS_NODE_PROJECT: path.join(ROOT, 'tsconfig.json'),
  };
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', path.join(ROOT, 'apps/api/src/main.ts')],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`api exited before answering:\n${out}`);
    try {
      if ((await fetch(`${baseUrl}/health/live`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`api did not answer in ${startTimeoutMs / 1000} s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    child,
    baseUrl,
    exited,
    output: () => out,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
