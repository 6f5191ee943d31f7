import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { Job, signUrl, verifyWebhook } from '@pixmill/sdk';
import { CliContext, CliExit } from './cli.context';
import { EXIT } from './exit-codes';
import { TRANSFORM_FLAGS, transformQueryFromArgv } from './transform-flags.util';
import { uploadCommand } from './upload.command';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function describeJob(job: Job): string {
  const result = job.result ? ` ${job.result.width}×${job.result.height} ${job.result.format}\n${job.result.url}` : '';
  const error = job.error ? ` ${job.error.code}: ${job.error.message}` : '';
  return `job ${job.id} ${job.status}${result}${error}`;
}

/** @pixmill/cli's version: its package.json sits above src/ and dist/ alike. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(__dirname, '../package.json'), 'utf8')) as { version: string }).version;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

/** The `pixmill` program; `run` resolves with the exit code. */
export function buildProgram(argv: string[], exit: (code: number) => void): Command {
  const program = new Command('pixmill')
    .description('Pixmill from the command line: upload, transform, download, sign URLs, listen to webhooks.')
    .option('--json', 'print machine-readable JSON on stdout')
    .version(packageVersion(), '-V, --version', 'the version of @pixmill/cli')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const ctx = () => new CliContext(!!program.opts().json);
  const act =
    <A extends unknown[]>(fn: (...args: A) => Promise<number | void>) =>
    async (...args: A) => exit((await fn(...args)) ?? EXIT.ok);

  program
    .command('login')
    .description('log in (or --signup) and save the session in ~/.config/pixmill')
    .option('--email <email>', 'account email (or PIXMILL_EMAIL)')
    .option('--password <password>', 'password (or PIXMILL_PASSWORD, or read from stdin)')
    .option('--api-url <url>', 'the API address to save (PIXMILL_API_URL overrides it)')
    .option('--signup', 'create the account first')
    .action(
      act(async (o: { email?: string; password?: string; apiUrl?: string; signup?: boolean }) => {
        const c = ctx();
        if (o.apiUrl) c.config = { ...c.config, apiUrl: o.apiUrl };
        const email = o.email ?? process.env.PIXMILL_EMAIL;
        const password = o.password ?? process.env.PIXMILL_PASSWORD ?? (process.stdin.isTTY ? undefined : await readStdin());
        if (!email || !password) throw new CliExit(EXIT.usage, 'login needs --email and --password (or PIXMILL_EMAIL / PIXMILL_PASSWORD, or the password on stdin)');
        const px = c.client(false);
        const auth = o.signup ? await px.signup(email, password) : await px.login(email, password);
        c.save({ ...c.config, email, tokens: px.currentTokens });
        c.print({ user: auth.user, apiUrl: c.apiUrl }, `logged in as ${auth.user.email} at ${c.apiUrl}`);
      }),
    );

  program
    .command('logout')
    .description('revoke the saved session and forget it')
    .action(
      act(async () => {
        const c = ctx();
        if (c.config.tokens) await c.client().logout().catch(() => undefined);
        c.store.clear();
        c.print({ loggedOut: true }, 'logged out');
      }),
    );

  program
    .command('whoami')
    .description('the account, its plan and usage')
    .action(
      act(async () => {
        const c = ctx();
        const me = await c.client().me();
        c.print(me, `${me.email} (${me.plan}) — ${me.usage.transformsToday}/${me.usage.dailyTransformQuota} transforms today, ${me.usage.storageBytes} of ${me.usage.storageQuotaBytes} bytes`);
      }),
    );

  program
    .command('upload')
    .description('upload files (globs welcome) with a progress bar each, then a summary table')
    .argument('<files...>', 'files or glob patterns')
    .option('--eager <spec.json>', 'a transformation spec (or an array of them) rendered right away')
    .option('--concurrency <n>', 'uploads at once', '4')
    .action(act(async (files: string[], o: { eager?: string; concurrency: string }) => uploadCommand(ctx(), files, o)));

  const transform = program
    .command('transform')
    .description('transform an image with the query syntax as flags, e.g. --resize 300x200 --format webp')
    .argument('<imageId>')
    .option('--wait [seconds]', 'wait for the result (default 120 s) and print its URL')
    .allowUnknownOption(false);
  for (const [key, hint] of TRANSFORM_FLAGS) transform.addOption(new Option(`--${key} [value]`, hint));
  transform.action(
    act(async (imageId: string, o: { wait?: string | true }) => {
      const c = ctx();
      const px = c.client();
      const query = transformQueryFromArgv(argv);
      const timeout = o.wait === undefined ? 0 : o.wait === true ? 120 : Number(o.wait);
      const first = await px.transformQuery(imageId, query, { wait: Math.min(timeout, 30) });
      if (first.url) return c.print({ status: 'succeeded', url: first.url }, first.url);
      const job = o.wait === undefined ? first.job! : await px.waitForJob(first.job!.id, { timeout: timeout * 1000 });
      c.print(job, job.result ? job.result.url : describeJob(job));
      return job.status === 'succeeded' || o.wait === undefined ? EXIT.ok : EXIT.job;
    }),
  );

  program
    .command('jobs')
    .description('your jobs, newest first')
    .option('--status <status>', 'queued | active | succeeded | failed | canceled')
    .option('--image <imageId>', 'only this image’s')
    .option('--limit <n>', 'at most this many', '20')
    .action(
      act(async (o: { status?: Job['status']; image?: string; limit: string }) => {
        const c = ctx();
        const jobs: Job[] = [];
        for await (const job of c.client().listJobs({ status: o.status, imageId: o.image, limit: Math.min(100, Number(o.limit)) })) {
          jobs.push(job);
          if (jobs.length >= Number(o.limit)) break;
        }
        c.print(jobs, jobs.map((j) => `${j.id}  ${j.status.padEnd(9)}  ${j.createdAt}  ${j.result?.url ?? j.error?.code ?? ''}`).join('\n') || 'no jobs');
      }),
    );

  program
    .command('download')
    .description('download an image’s original, or a succeeded job’s result')
    .argument('<id>', 'an image id or a job id')
    .requiredOption('-o, --output <file>', 'where to write it')
    .action(
      act(async (id: string, o: { output: string }) => {
        const c = ctx();
        const px = c.client();
        if (!UUID.test(id)) throw new CliExit(EXIT.usage, `${id} is not an image or job id`);
        const job = await px.getJob(id).catch(() => undefined);
        const url = job ? job.result?.url : (await px.getImage(id)).urls.original;
        if (!url) throw new CliExit(EXIT.job, `job ${id} is ${job!.status}: nothing to download`, job!.error?.code);
        const bytes = await px.download(url);
        await writeFile(o.output, bytes);
        c.print({ id, output: o.output, bytes: bytes.byteLength }, `wrote ${o.output} (${bytes.byteLength} bytes)`);
      }),
    );

  program
    .command('sign-url')
    .description('a signed public /i/ URL; options as key=value in order, e.g. resize=300x200 format=auto')
    .argument('<imageId>')
    .argument('[options...]', 'key=value pairs of the query syntax')
    .requiredOption('--key <pmk_…>', 'a URL key (GET /v1/url-keys), or PIXMILL_URL_KEY', process.env.PIXMILL_URL_KEY)
    .option('--expires <seconds>', 'valid for this many seconds from now')
    .option('--base-url <url>', 'the public address (default: the API address)')
    .action(
      act(async (imageId: string, options: string[], o: { key: string; expires?: string; baseUrl?: string }) => {
        const c = ctx();
        const pairs = options.map((kv): [string, string] => {
          const at = kv.indexOf('=');
          if (at < 1) throw new CliExit(EXIT.usage, `${kv}: expected key=value`);
          return [kv.slice(0, at), kv.slice(at + 1)];
        });
        const expiresAt = o.expires ? Math.floor(Date.now() / 1000) + Number(o.expires) : undefined;
        const url = await signUrl(imageId, pairs, o.key, { baseUrl: o.baseUrl ?? c.apiUrl, expiresAt });
        c.print({ url }, url);
      }),
    );

  const webhooks = program.command('webhooks').description('webhook tools for local development');
  webhooks
    .command('listen')
    .description('a local receiver that verifies each delivery and prints it')
    .option('--port <n>', 'port to listen on', '8787')
    .option('--secret <whsec_…>', 'the secret (default: your account secret, GET /v1/webhook-secret)')
    .action(
      act(async (o: { port: string; secret?: string }) => {
        const c = ctx();
        const secret = o.secret ?? (await c.client().api.GET('/v1/webhook-secret')).data?.secret;
        if (!secret) throw new CliExit(EXIT.auth, 'no secret: pass --secret or log in');
        const server = createServer((req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (d: Buffer) => chunks.push(d));
          req.on('end', async () => {
            const body = Buffer.concat(chunks).toString('utf8');
            try {
              const event = await verifyWebhook(secret, req.headers, body);
              // Printed before answering: whoever sent it may read the line as soon as it has the answer.
              c.print({ verified: true, id: req.headers['webhook-id'], event }, `✔ ${event.type} ${req.headers['webhook-id']} ${JSON.stringify(event.data)}`);
              res.writeHead(204).end();
            } catch (err) {
              c.print({ verified: false, id: req.headers['webhook-id'], error: (err as Error).message }, `✘ rejected ${req.headers['webhook-id'] ?? ''}: ${(err as Error).message}`);
              res.writeHead(400).end();
            }
          });
        });
        await new Promise<void>((resolve) => server.listen(Number(o.port), '127.0.0.1', resolve));
        // On stderr even with --json: stdout carries only the deliveries.
        process.stderr.write(`listening on http://127.0.0.1:${o.port}/ (Ctrl-C to stop)\n`);
        await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
        server.close();
      }),
    );
  return program;
}

export async function run(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(argv, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const failure = CliContext.failure(err);
    const json = argv.includes('--json');
    if (json) process.stdout.write(`${JSON.stringify({ error: { code: failure.code ?? 'failed', message: failure.message } })}\n`);
    else process.stderr.write(`pixmill: ${failure.message}\n`);
    return failure.exitCode;
  }
}

if (require.main === module) {
  run(process.argv.slice(2)).then((code) => process.exit(code));
}
