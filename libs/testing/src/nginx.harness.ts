import { ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './api.harness';

export interface RunningNginx {
  baseUrl: string;
  /** The access log so far. */
  accessLog(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Runs a real nginx (from the system: apt nginx-light) with one of deploy/nginx's conf.d
 * files, as deploy/nginx/check.sh wraps it: absolute paths moved into a temp dir, `listen 80`
 * moved to a free loopback port, and `set $<originVar> "...";` pointed at `origin`.
 */
export async function startNginx(confFile: string, opts: { originVar: string; origin: string }): Promise<RunningNginx> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pixmill-nginx-'));
  // Started as root, nginx's workers run as nobody: they must be able to write the cache and temp files.
  await chmod(dir, 0o755);
  for (const d of ['cache', 'logs', 'temp']) {
    await mkdir(path.join(dir, d));
    await chmod(path.join(dir, d), 0o777);
  }
  const port = await freePort();
  const conf = (await readFile(confFile, 'utf8'))
    .replace(/\/var\/cache\/nginx\/[A-Za-z0-9_-]+/g, path.join(dir, 'cache'))
    .replace(/\/var\/log\/nginx\//g, `${path.join(dir, 'logs')}/`)
    .replace(/^(\s*listen\s+)80([\s;])/m, `$1127.0.0.1:${port}$2`)
    .replace(new RegExp(`set \\$${opts.originVar} "[^"]*";`), `set $${opts.originVar} "${opts.origin}";`);
  await writeFile(path.join(dir, 'site.conf'), conf);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((m) => `${m}_temp_path ${dir}/temp/${m};`).join('\n  ');
  await writeFile(
    path.join(dir, 'nginx.conf'),
    `daemon off;\nworker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/logs/error.log warn;\nevents { worker_connections 256; }\n` +
      `http {\n  default_type application/octet-stream;\n  ${temp}\n  include ${dir}/site.conf;\n}\n`,
  );
  const bin = process.env.NGINX ?? (await firstExisting(['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx']));
  const child: ChildProcess = spawn(bin, ['-p', `${dir}/`, '-e', `${dir}/logs/error.log`, '-c', `${dir}/nginx.conf`], { stdio: 'ignore' });
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${await readFile(path.join(dir, 'logs', 'error.log'), 'utf8').catch(() => '')}`);
    try {
      await fetch(`${baseUrl}/`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error('nginx did not start listening');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    baseUrl,
    accessLog: async () => {
      const files = ['access.log', 'public-access.log'];
      const logs = await Promise.all(files.map((f) => readFile(path.join(dir, 'logs', f), 'utf8').catch(() => '')));
      return logs.join('');
    },
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function firstExisting(paths: string[]): Promise<string> {
  for (const p of paths) {
    try {
      await readFile(p, { flag: 'r' }).then(() => undefined, () => Promise.reject());
      return p;
    } catch {
      // next
    }
  }
  return 'nginx';
}
