import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { UnauthorizedException } from '@pixmill/common';
import type { AuthUser } from '../common/current-user.decorator';
import { IS_PUBLIC } from '../common/public.decorator';
import { API_KEY_INVALID } from './api-key.strategy';
import { APP_PASSPORT, AppPassport, AUTH_CHAIN } from './app-passport';

type Challenge = { name?: string; message?: string } | undefined;

/**
 * Global guard: every route needs `Authorization: Bearer …` with a valid access token or
 * API key unless marked @Public(). One passport chain (AUTH_CHAIN): the JWT strategy, then
 * the API-key strategy; the first that accepts the bearer wins. The chain runs on this
 * application's own passport (APP_PASSPORT).
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_PASSPORT) private readonly passport: AppPassport,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [ctx.getHandler(), ctx.getClass()]);
    if (isPublic) return true;
    const http = ctx.switchToHttp();
    const req = http.getRequest<{ user?: AuthUser }>();
    req.user = await new Promise<AuthUser>((resolve, reject) => {
      const verdict = (err: unknown, user: AuthUser | false, infos: Challenge | Challenge[]) => {
        try {
          resolve(this.handleRequest(err, user, infos));
        } catch (e) {
          reject(e);
        }
      };
      // `next` is reached only when no strategy decided (none does that): refused like a bad token.
      this.passport.authenticate(AUTH_CHAIN, { session: false }, verdict)(req, http.getResponse(), (err?: unknown) => verdict(err, false, undefined));
    });
    return true;
  }

  /** With two strategies, passport reports every failure's challenge (an array). */
  handleRequest(err: unknown, user: AuthUser | false, infos: Challenge | Challenge[]): AuthUser {
    // A dependency failure (PostgreSQL down while reading a key or an account) is the filter's 503.
    if (err) throw err;
    if (!user) {
      const list = Array.isArray(infos) ? infos : [infos];
      if (list.some((c) => c?.name === API_KEY_INVALID)) throw new UnauthorizedException('The API key is invalid or was deleted.');
      const info = list.find((c) => c !== undefined);
      if (info?.name === 'TokenExpiredError') throw new UnauthorizedException('The access token has expired.');
      if (info?.message === 'No auth token') throw new UnauthorizedException('An access token is required (Authorization: Bearer …).');
      throw new UnauthorizedException('The access token is invalid.');
    }
    return user;
  }
}
