import { ChildProcess, execFile, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { signUrl } from '@pixmill/sdk';
import { freePort, jpeg, RunningApi, startApi, startWorkerProcess, WorkerProcess } from '@pixmill/testing';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'apps/cli/bin/pixmill.js');
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

  /** Runs `pixmill …` (asynchronously: the API answers from this process). */
  const pixmill = (...args: string[]): Promise<Ran> =>
    new Promise((resolve) => {
      execFile(process.execPath, [BIN, ...args], { cwd: work, env: env() }, (err, stdout, stderr) => {
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

  beforeAll(async () => {
    api = await startApi(ENV);
    worker = await startWorkerProcess({ ...ENV, PUBLIC_BASE_URL: api.baseUrl });
  });
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.stop()]);
  });

  it('login → upload globs with --eager → transform --wait → download: the pixels are the flags’; jobs lists them; logout ends the session', async () => {
    const email = `cli-${Date.now().toString(36)}@example.com`;
    const login = await pixmill('login', '--signup', '--email', email, '--password', 'correct horse battery', '--json');
    expect(login).toMatchObject({ code: 0, json: { user: { email } } });
    const saved = JSON.parse(readFileSync(path.join(home, 'pixmill/config.json'), 'utf8'));
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
