import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { testEnv } from './test-config';

const ROOT = path.resolve(__dirname, '../../..');

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Resolves with the exit code, or the signal that ended the process. */
  exited: Promise<number | NodeJS.Signals | null>;
  /** SIGTERM and wait for the process to end (exit code, or signal). */
  stop(): Promise<number | NodeJS.Signals | null>;
  /** SIGKILL: the process dies mid-work, as on a crashed machine. */
  kill(): Promise<void>;
  output(): string;
  /** The JSON lines of its output (pino), parsed; other lines are left out. */
  logLines(): Array<Record<string, unknown>>;
}

/**
 * Runs apps/worker as a separate OS process straight from TypeScript (transpile
 * only), the same entry point `npm run start:worker` runs from dist/.
 */
export async function startWorkerProcess(overrides: Record<string, string> = {}, startTimeoutMs = 30_000): Promise<WorkerProcess> {
  const env = { ...process.env, ...testEnv({ LOG_LEVEL: 'info', ...overrides }), TS_NODE_TRANSPILE_ONLY: 'true', TS_NODE_PROJECT: path.join(ROOT, 'tsconfig.json') };
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', path.join(ROOT, 'apps/worker/src/main.ts')],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  // 'close', not 'exit': by then the process's last output has been read too.
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      // A worker that missed its start would otherwise go on and take other suites' jobs.
      child.kill('SIGKILL');
      reject(new Error(`worker did not start in ${startTimeoutMs / 1000} s:\n${out}`));
    }, startTimeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('worker') && out.includes('started')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code} before starting:\n${out}`));
    });
  });
  return {
    child,
    pid: child.pid!,
    exited,
    output: () => out,
    logLines: () =>
      out.split('\n').flatMap((line) => {
        if (!line.startsWith('{')) return [];
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return []; // a line still being written
        }
      }),
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
