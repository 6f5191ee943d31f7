import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { DETACHED_PASSPORT } from './detached-passport';
import { ExtractJwt } from 'passport-jwt';
import { Strategy } from 'passport-strategy';
import { ApiKeyRepository } from '@pixmill/db';
import type { AuthUser } from '../common/current-user.decorator';
import { ApiKeyMemo } from './api-key.memo';
import { hashApiKey, isWellFormedApiKey, looksLikeApiKey } from './api-key.util';

const bearerToken = ExtractJwt.fromAuthHeaderAsBearerToken();
type BearerRequest = Parameters<typeof bearerToken>[0];

/** The parts of passport's per-request strategy object that authenticate() uses. */
interface PassportActions {
  success(user: AuthUser): void;
  fail(challenge?: { name: string; message: string }, status?: number): void;
  error(err: Error): void;
}

/** The challenge of a `pm_…` bearer that is no key (JwtAuthGuard answers it). */
export const API_KEY_INVALID = 'ApiKeyInvalid';

/**
 * The second strategy of the one chain (['jwt', 'api-key'], JwtAuthGuard): a bearer
 * `pm_…` is an API key. Its SHA-256 finds it (one indexed statement that also records
 * its use); a key authenticated before is taken from ApiKeyMemo for a minute. Any other
 * bearer is left to the JWT strategy's verdict.
 */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(Strategy, 'api-key') {
  /** Registered with the application's own passport (APP_PASSPORT), not passport's process-wide one. */
  getPassportInstance() {
    return DETACHED_PASSPORT;
  }

  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly memo: ApiKeyMemo,
  ) {
    super();
  }

  authenticate(this: ApiKeyStrategy & PassportActions, req: BearerRequest): void {
    const token = bearerToken(req);
    if (!token || !looksLikeApiKey(token)) return this.fail();
    const invalid = { name: API_KEY_INVALID, message: 'The API key is invalid or was deleted.' };
    if (!isWellFormedApiKey(token)) return this.fail(invalid, 401);
    const hash = hashApiKey(token);
    const known = this.memo.recall(hash);
    if (known) return this.success(known);
    this.keys.use(hash).then(
      (grant) => {
        if (!grant) return this.fail(invalid, 401);
        const user = { id: grant.userId, apiKey: { id: grant.id, scopes: grant.scopes } };
        this.memo.remember(hash, user);
        this.success(user);
      },
      (err: Error) => this.error(err),
    );
  }

  /** Unused: authenticate() decides (PassportStrategy requires the method). */
  validate(): never {
    throw new Error('ApiKeyStrategy.validate is not called');
  }
}
