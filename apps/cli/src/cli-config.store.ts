import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Tokens } from '@pixmill/sdk';

export interface CliConfig {
  apiUrl?: string;
  email?: string;
  tokens?: Tokens;
}

/**
 * `~/.config/pixmill/config.json` (or `$XDG_CONFIG_HOME/pixmill`), written 0600: the API
 * address and the latest token pair (refresh tokens rotate, so every refresh is saved).
 * `PIXMILL_API_URL` and `PIXMILL_TOKEN` override it.
 */
export class CliConfigStore {
  readonly file: string;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.file = path.join(env.XDG_CONFIG_HOME || path.join(homedir(), '.config'), 'pixmill', 'config.json');
  }

  read(): CliConfig {
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as CliConfig;
    } catch {
      return {};
    }
  }

  write(config: CliConfig): void {
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    writeFileSync(this.file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  }

  clear(): void {
    rmSync(this.file, { force: true });
  }
}
