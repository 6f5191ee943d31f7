import { ChildProcess, execFile, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { Pixmill, signUrl } from '@pixmill/sdk';
import { contractFetch, freePort, HttpClient, installTarballs, jpeg, npmPack, RunningApi, startApi, startWorkerProcess, WorkerProcess } from '@pixmill/testing';

const ROOT = path.resolve(__dirname, '../..');
/** `npx pixmill` in the repository: builds apps/cli when stale, then runs it. */
const BIN = path.join(ROOT, 'apps/cli/bin/pixmill.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ensureCliBuild } = require('../../scripts/ensure-cli-build') as { ensureCliBuild: (o: { quiet: boolean }) => boolean };
const ENV = { STORAGE_LOCAL_DIR: mkdtempSync(path.join(tmpdir(), 'pixmill-cli-')) };

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  json: any;
}

describe('pixmill CLI as a child process against the running API and a worker (e2e)', () => {
  let api: RunningApi;
  let worker: WorkerProcess;
  const home = mkdtempSync(path.join(tmpdir(), 'pixmill-cli-home-'));
  const work = mkdtempSync(path.join(tmpdir(), 'pixmill-cli-work-'));
  const env = () => ({ ...process.env, NODE_OPTIONS: '', XDG_CONFIG_HOME: home, PIXMILL_API_URL: api.baseUrl, PIXMILL_TOKEN: '' });

  /** A `pixmill` to run (asynchronously: the API answers from this process), with extra environment. */
  const runner =
    (command: string[], cwd = work) =>
    (extraEnv: Record<string, string>, ...args: string[]): Promise<Ran> =>
      new Promise((resolve) => {
        execFile(command[0], [...command.slice(1), ...args], { cwd, env: { ...env(), ...extraEnv } }, (err, stdout, stderr) => {
          const code = err ? ((err as { code?: number }).code ?? 1) : 0;
          let json: unknown;
          try {
            json = JSON.parse(stdout.trim().split('\n').pop() ?? '');
          } catch {
            json = undefined;
          }
          resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr, json });
        });
      });
  const pixmillWith = runner([process.execPath, BIN]);
  const pixmill = (...args: string[]) => pixmillWith({}, ...args);

  beforeAll(async () => {
    ensureCliBuild({ quiet: true }); // here rather than inside the first command, whose output the tests read
    api = await startApi(ENV);
    worker = await startWorkerProcess({ ...ENV, PUBLIC_BASE_URL: api.baseUrl });
  }, 180_000);
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.stop()]);
  });

  it('login → upload globs with --eager → transform --wait → download: the pixels are the flags’; jobs lists them; logout ends the session', async () => {
    const email = `cli-${Date.now().toString(36)}@example.com`;
    const login = await pixmill('login', '--signup', '--email', email, '--password', 'correct horse battery', '--json');
    expect(login).toMatchObject({ code: 0, json: { user: { email } } });
    const readConfig = () => JSON.parse(readFileSync(path.join(home, 'pixmill/config.json'), 'utf8'));
    const saved = readConfig();
    expect(saved).toMatchObject({ email, tokens: { accessToken: expect.any(String), refreshToken: expect.any(String) } });
    expect(statSync(path.join(home, 'pixmill/config.json')).mode & 0o777).toBe(0o600);
    expect(await pixmill('whoami', '--json')).toMatchObject({ code: 0, json: { email, plan: 'free' } });

    writeFileSync(path.join(work, 'a.jpg'), await jpeg(640, 480, { seed: 1 }));
    writeFileSync(path.join(work, 'b.jpg'), await jpeg(320, 240, { seed: 2 }));
    writeFileSync(path.join(work, 'eager.json'), JSON.stringify([{ operations: [{ op: 'resize', width: 64 }], output: { format: 'webp' } }]));
    const upload = await pixmill('upload', '*.jpg', '--eager', 'eager.json', '--concurrency', '2', '--json');
    expect(upload.code).toBe(0);
    expect(upload.json).toEqual([
      expect.objectContaining({ file: 'a.jpg', id: expect.any(String), width: 640, height: 480, eagerJobs: [expect.any(String)] }),
      expect.objectContaining({ file: 'b.jpg', id: expect.any(String), width: 320, height: 240 }),
    ]);
    const imageId = upload.json[0].id;

    const transform = await pixmill('transform', imageId, '--resize', '120x80', '--fit', 'fill', '--grayscale', '--format', 'png', '--wait', '--json');
    expect(transform.code).toBe(0);
    const url: string = transform.json.url ?? transform.json.result.url;
    expect(url).toMatch(/^http/);

    const jobs = await pixmill('jobs', '--image', imageId, '--json');
    expect(jobs.code).toBe(0);
    const rendered = (jobs.json as Array<{ id: string; status: string; result: { format: string } | null }>).find((j) => j.result?.format === 'png');
    expect(rendered).toBeDefined();
    const download = await pixmill('download', rendered!.id, '-o', 'out.png', '--json');
    expect(download).toMatchObject({ code: 0, json: { output: 'out.png' } });
    const out = readFileSync(path.join(work, 'out.png'));
    const meta = await sharp(out).metadata();
    expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: 'png', width: 120, height: 80 });
    const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
    const at = (40 * info.width + 60) * info.channels;
    expect([data[at + 1], data[at + 2]]).toEqual([data[at], data[at]]);

    const original = await pixmill('download', imageId, '-o', 'original.jpg');
    expect(original.code).toBe(0);
    expect((await sharp(path.join(work, 'original.jpg')).metadata()).width).toBe(640);

    // --preset: the preset's operations first, then the flags' own (grayscale), its output unless a flag sets one.
    const session = new HttpClient(api.baseUrl, saved.tokens.accessToken);
    const preset = await session.post('/v1/presets', { name: 'cli-card', spec: { operations: [{ op: 'resize', width: 90, height: 60, fit: 'fill' }], output: { format: 'webp' } } });
    expect(preset.status).toBe(201);
    const viaPreset = await pixmill('transform', imageId, '--preset', 'cli-card', '--grayscale', '--wait', '--json');
    expect(viaPreset.code).toBe(0);
    const presetOut = Buffer.from(await (await contractFetch(viaPreset.json.url ?? viaPreset.json.result.url)).arrayBuffer());
    const presetMeta = await sharp(presetOut).metadata();
    expect({ format: presetMeta.format, width: presetMeta.width, height: presetMeta.height }).toEqual({ format: 'webp', width: 90, height: 60 });
    const gray = await sharp(presetOut).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const g = (30 * gray.info.width + 45) * gray.info.channels;
    expect(Math.max(Math.abs(gray.data[g] - gray.data[g + 1]), Math.abs(gray.data[g + 1] - gray.data[g + 2]))).toBeLessThanOrEqual(2);
    expect(await pixmill('transform', imageId, '--preset', 'no-such-preset', '--json')).toMatchObject({ code: 1, json: { error: { code: 'validation_failed' } } });

    // jobs --status: only jobs in that status.
    const succeeded = await pixmill('jobs', '--status', 'succeeded', '--json');
    expect(succeeded.code).toBe(0);
    expect(succeeded.json.map((j: { status: string }) => j.status)).toEqual(succeeded.json.map(() => 'succeeded'));
    expect(succeeded.json.map((j: { id: string }) => j.id)).toContain(rendered!.id);
    expect(await pixmill('jobs', '--status', 'failed', '--json')).toMatchObject({ code: 0, json: [] });
    expect(await pixmill('jobs', '--status', 'nope', '--json')).toMatchObject({ code: 1, json: { error: { code: 'validation_failed' } } });

    // PIXMILL_TOKEN beats the saved session, for one command, and leaves the saved session as it was.
    const beforeOverride = readConfig();
    const other = await Pixmill.signup({ baseUrl: api.baseUrl, fetch: contractFetch }, `cli-other-${Date.now().toString(36)}@example.com`, 'correct horse battery');
    const otherEmail = (await other.me()).email;
    expect(await pixmillWith({ PIXMILL_TOKEN: other.currentTokens!.accessToken }, 'whoami', '--json')).toMatchObject({ code: 0, json: { email: otherEmail } });
    expect(await pixmillWith({ PIXMILL_TOKEN: other.currentTokens!.accessToken }, 'jobs', '--json')).toMatchObject({ code: 0, json: [] });
    const key = (await session.post('/v1/api-keys', { name: 'cli', scopes: ['transformations'] })).body.key as string;
    const byKey = await pixmillWith({ PIXMILL_TOKEN: key }, 'jobs', '--status', 'succeeded', '--json');
    expect(byKey.code).toBe(0);
    expect(byKey.json.map((j: { id: string }) => j.id)).toContain(rendered!.id);
    expect(await pixmillWith({ PIXMILL_TOKEN: 'pm_not-a-key' }, 'whoami', '--json')).toMatchObject({ code: 3, json: { error: { code: 'unauthorized' } } });
    expect(readConfig()).toEqual(beforeOverride);
    expect(await pixmill('whoami', '--json')).toMatchObject({ code: 0, json: { email } });

    // Errors: the problem's code, exit 1; after logout, exit 3.
    const missing = await pixmill('transform', '3f0c7d3e-9a53-4b8e-8f43-2b8a8f0d1e11', '--resize', '10x10', '--json');
    expect(missing).toMatchObject({ code: 1, json: { error: { code: 'not_found' } } });
    const bad = await pixmill('transform', imageId, '--blur', '1000');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/validation_failed/);
    expect(await pixmill('logout', '--json')).toMatchObject({ code: 0, json: { loggedOut: true } });
    expect(await pixmill('whoami', '--json')).toMatchObject({ code: 3, json: { error: { code: 'unauthorized' } } });
    expect((await pixmill('upload')).code).toBe(2);
  }, 300_000);

  it('npm pack: the SDK and CLI tarballs install into an empty folder, and the installed pixmill logs in, uploads and transforms', async () => {
    const packs = mkdtempSync(path.join(tmpdir(), 'pixmill-cli-pack-'));
    const sdk = await npmPack(path.join(ROOT, 'libs/sdk'), packs);
    const cli = await npmPack(path.join(ROOT, 'apps/cli'), packs);
    expect(cli.files).toEqual(expect.arrayContaining(['bin/pixmill.js', 'dist/main.js', 'package.json']));
    expect(cli.files.filter((f) => f.endsWith('.ts'))).toEqual([]);
    const app = await installTarballs([sdk.tarball, cli.tarball]);
    // Compiled JavaScript on the package's runtime dependencies: no TypeScript tooling installed.
    expect(['typescript', 'ts-node', 'tsconfig-paths'].filter((dev) => existsSync(path.join(app, 'node_modules', dev)))).toEqual([]);
    const installed = runner([path.join(app, 'node_modules/.bin/pixmill')], app);
    const home2 = mkdtempSync(path.join(tmpdir(), 'pixmill-cli-home-'));
    const run = (...args: string[]) => installed({ XDG_CONFIG_HOME: home2 }, ...args);

    expect(await run('--version')).toMatchObject({ code: 0, stdout: `${JSON.parse(readFileSync(path.join(ROOT, 'apps/cli/package.json'), 'utf8')).version}\n` });
    const email = `cli-packed-${Date.now().toString(36)}@example.com`;
    expect(await run('login', '--signup', '--email', email, '--password', 'correct horse battery', '--json')).toMatchObject({ code: 0, json: { user: { email } } });
    expect(await run('whoami', '--json')).toMatchObject({ code: 0, json: { email, plan: 'free' } });
    writeFileSync(path.join(app, 'photo.jpg'), await jpeg(400, 300, { seed: 3 }));
    const upload = await run('upload', 'photo.jpg', '--json');
    expect(upload).toMatchObject({ code: 0, json: [{ file: 'photo.jpg', width: 400, height: 300 }] });
    const transform = await run('transform', upload.json[0].id, '--resize', '160x90', '--fit', 'fill', '--format', 'webp', '--wait', '--json');
    expect(transform.code).toBe(0);
    const out = Buffer.from(await (await contractFetch(transform.json.url ?? transform.json.result.url)).arrayBuffer());
    const meta = await sharp(out).metadata();
    expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: 'webp', width: 160, height: 90 });
  }, 300_000);

  it('sign-url prints the URL signUrl makes', async () => {
    const key = `pmk_${'B'.repeat(43)}`;
    const id = '0d7a3b6c-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
    const ran = await pixmill('sign-url', id, 'resize=300x200', 'format=auto', '--key', key, '--base-url', 'https://img.example.com', '--json');
    expect(ran).toMatchObject({ code: 0, json: { url: await signUrl(id, [['resize', '300x200'], ['format', 'auto']], key, { baseUrl: 'https://img.example.com' }) } });
  });

  it('webhooks listen prints verified deliveries and refuses forged ones', async () => {
    const port = await freePort();
    const secret = `whsec_${Buffer.from('a local development secret!!').toString('base64')}`;
    const child: ChildProcess = spawn(process.execPath, [BIN, 'webhooks', 'listen', '--port', String(port), '--secret', secret, '--json'], { cwd: work, env: env() });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    try {
      const deadline = Date.now() + 60_000;
      while (!err.includes('listening') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const body = JSON.stringify({ type: 'job.succeeded', timestamp: new Date().toISOString(), data: { id: 'j1' } });
      const ts = String(Math.floor(Date.now() / 1000));
      const sig = createHmac('sha256', Buffer.from(secret.slice(6), 'base64')).update(`msg_1.${ts}.${body}`).digest('base64');
      const send = (signature: string) =>
        fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body, headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': ts, 'webhook-signature': signature } });
      expect((await send(`v1,${sig}`)).status).toBe(204);
      expect((await send('v1,Zm9yZ2Vk')).status).toBe(400);
      // The child's stdout and its HTTP answers are two channels: the answer may be read here before
      // the line printed ahead of it, so wait (bounded) for both lines.
      const linesBy = Date.now() + 10_000;
      while (out.trim().split('\n').filter(Boolean).length < 2 && Date.now() < linesBy) await new Promise((r) => setTimeout(r, 50));
      const lines = out.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines).toEqual([
        { verified: true, id: 'msg_1', event: { type: 'job.succeeded', timestamp: expect.any(String), data: { id: 'j1' } } },
        { verified: false, id: 'msg_1', error: expect.stringMatching(/signature/) },
      ]);
    } finally {
      child.kill('SIGTERM');
    }
  }, 120_000);
});
