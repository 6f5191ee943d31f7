import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { UnauthorizedException } from '@pixmill/common';
import { IS_PUBLIC } from '../common/public.decorator';
import { API_KEY_INVALID } from './api-key.strategy';

type Challenge = { name?: string; message?: string } | undefined;

/**
 * Global guard: every route needs `Authorization: Bearer …` with a valid access token or
 * API key unless marked @Public(). One passport chain: the JWT strategy, then the API-key
 * strategy; the first that accepts the bearer wins.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard(['jwt', 'api-key']) {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  canActivate(ctx: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [ctx.getHandler(), ctx.getClass()]);
    return isPublic ? true : super.canActivate(ctx);
  }

  /** With two strategies, passport reports every failure's challenge (an array). */
  handleRequest<T>(err: unknown, user: T, infos: Challenge | Challenge[]): T {
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
