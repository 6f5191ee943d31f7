import { Injectable } from '@nestjs/common';
import * as argon2 from 'argon2';

// OWASP's argon2id baseline (19 MiB, t=2, p=1): strong, and ~30 ms here so login stays cheap to serve.
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/** Password hashing (argon2id), and the same work for an unknown account so timing reveals nothing. */
@Injectable()
export class PasswordHasher {
  /** A real hash to verify against when the email is unknown, so timing does not reveal which emails exist. */
  private readonly dummyHash = argon2.hash('pixmill-no-such-user', ARGON2_OPTIONS);

  hash(password: string): Promise<string> {
    return argon2.hash(password, ARGON2_OPTIONS);
  }

  /** Verifies `password` against `hash`, or against a dummy hash (always false) when there is none. */
  async verify(hash: string | undefined, password: string): Promise<boolean> {
    const ok = await argon2.verify(hash ?? (await this.dummyHash), password);
    return ok && hash !== undefined;
  }
}
