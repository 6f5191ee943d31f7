import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

/**
 * A process that uses exitGracefullyOn: close() resolves when "close" arrives on stdin;
 * handBack logs; "busy" starts native work on the libuv threadpool that runs for tens of
 * seconds and cannot be cancelled (PBKDF2 here, a libvips render in the worker).
 */
const SCRIPT = `
const crypto = require('node:crypto');
const { exitGracefullyOn } = require(${JSON.stringify(path.join(__dirname, 'graceful-shutdown.util.ts'))});
const log = (msg) => process.stdout.write(msg + '\\n');
let closed;
const closing = new Promise((resolve) => (closed = resolve));
exitGracefullyOn(() => closing, log, {
  timeoutMs: Number(process.env.GRACE_MS),
  handBack: async () => log('handBack called'),
});
process.stdin.on('data', (d) => {
  const cmd = String(d).trim();
  if (cmd === 'close') closed();
  if (cmd === 'busy') crypto.pbkdf2('secret', 'salt', 120_000_000, 64, 'sha512', () => log('native work done'));
  log('ack ' + cmd);
});
log('ready');
`;

interface Child {
  proc: ChildProcess;
  output(): string;
  waitFor(text: string): Promise<void>;
  send(cmd: string): Promise<void>;
  exited: Promise<number | NodeJS.Signals | null>;
}

function start(graceMs: number): Promise<Child> {
  const proc = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', SCRIPT], {
    env: { ...process.env, GRACE_MS: String(graceMs), TS_NODE_TRANSPILE_ONLY: 'true' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => proc.on('close', (code, signal) => resolve(code ?? signal)));
  const waitFor = async (text: string) => {
    while (!out.includes(text)) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`exited before "${text}":\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const child: Child = {
    proc,
    output: () => out,
    waitFor,
    send: async (cmd) => {
      proc.stdin!.write(`${cmd}\n`);
      await waitFor(`ack ${cmd}`);
    },
    exited,
  };
  return waitFor('ready').then(() => child);
}

describe('exitGracefullyOn', () => {
  it('exits 0 once closing has finished', async () => {
    const child = await start(60_000);
    child.proc.kill('SIGTERM');
    await child.waitFor('SIGTERM received: finishing work in hand');
    await child.send('close');
    expect(await child.exited).toBe(0);
    expect(child.output()).not.toContain('handBack called');
  });

  it("SIGINT then SIGTERM (a terminal's Ctrl-C under npm start) is one request: the work in hand still finishes", async () => {
    const child = await start(60_000);
    child.proc.kill('SIGINT');
    await child.waitFor('SIGINT received: finishing work in hand');
    child.proc.kill('SIGTERM');
    await child.waitFor('SIGTERM received: already stopping (SIGINT again stops at once)');
    await child.send('close');
    expect(await child.exited).toBe(0);
  });

  it('the same signal again hands the work back and ends the process at once', async () => {
    const child = await start(60_000);
    child.proc.kill('SIGINT');
    await child.waitFor('SIGINT received: finishing work in hand');
    child.proc.kill('SIGINT');
    expect(await child.exited).toBe('SIGKILL');
    expect(child.output()).toContain('SIGINT received again');
    expect(child.output()).toContain('handBack called');
  });

  it('past the grace period, with native work running on the threadpool: hands the work back and ends (process.exit would wait for it)', async () => {
    const child = await start(300);
    await child.send('busy');
    child.proc.kill('SIGTERM');
    expect(await child.exited).toBe('SIGKILL');
    const out = child.output();
    expect(out).toContain('shutdown took longer than 300 ms');
    expect(out.indexOf('handBack called')).toBeLessThan(out.indexOf('exiting now'));
    expect(out).not.toContain('native work done');
  });
});
