import { Pixmill, PixmillError } from '@pixmill/sdk';
import { CliConfig, CliConfigStore } from './cli-config.store';
import { EXIT } from './exit-codes';

/** Thrown to end the command with an exit code and a message. */
export class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** What every command shares: the config, the client, and output as text or `--json`. */
export class CliContext {
  readonly store: CliConfigStore;
  config: CliConfig;

  constructor(
    readonly json: boolean,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.store = new CliConfigStore(env);
    this.config = this.store.read();
  }

  get apiUrl(): string {
    return this.env.PIXMILL_API_URL || this.config.apiUrl || 'http://localhost:3000';
  }

  /** A client for the saved session (or PIXMILL_TOKEN); rotated tokens are saved as they come. */
  client(requireAuth = true): Pixmill {
    const token = this.env.PIXMILL_TOKEN;
    const tokens = token ? { accessToken: token } : this.config.tokens;
    if (requireAuth && !tokens) throw new CliExit(EXIT.auth, 'not logged in: run `pixmill login` (or set PIXMILL_TOKEN)', 'unauthorized');
    return new Pixmill({
      baseUrl: this.apiUrl,
      tokens,
      onTokens: token ? undefined : (t) => this.save({ ...this.config, tokens: t ?? undefined }),
    });
  }

  save(config: CliConfig): void {
    this.config = config;
    this.store.write(config);
  }

  /** Prints a result: JSON on stdout with `--json`, else the text given. */
  print(value: unknown, text?: string): void {
    process.stdout.write(this.json ? `${JSON.stringify(value)}\n` : `${text ?? JSON.stringify(value, null, 2)}\n`);
  }

  info(text: string): void {
    if (!this.json) process.stderr.write(`${text}\n`);
  }

  /** The exit code and message of a failure. */
  static failure(err: unknown): CliExit {
    if (err instanceof CliExit) return err;
    if (err instanceof PixmillError) {
      const exit = err.status === 401 ? EXIT.auth : err.code === 'timeout' || err.details.jobId ? EXIT.job : EXIT.failed;
      const req = err.requestId ? ` (request ${err.requestId})` : '';
      const fields = err.errors?.length ? `\n${err.errors.map((e) => `  ${e.field}: ${e.message}`).join('\n')}` : '';
      return new CliExit(exit, `${err.code}: ${err.message}${req}${fields}`, err.code);
    }
    return new CliExit(EXIT.failed, String((err as Error)?.message ?? err));
  }
}
