import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { UnauthorizedException } from '@pixmill/common';
import { IS_PUBLIC } from '../common/public.decorator';

/** Global guard: every route needs a valid access token (`Authorization: Bearer …`) unless marked @Public(). */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  canActivate(ctx: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [ctx.getHandler(), ctx.getClass()]);
    return isPublic ? true : super.canActivate(ctx);
  }

  handleRequest<T>(err: unknown, user: T, info: { name?: string; message?: string } | undefined): T {
    if (err || !user) {
      if (info?.name === 'TokenExpiredError') throw new UnauthorizedException('The access token has expired.');
      if (info?.message === 'No auth token') throw new UnauthorizedException('An access token is required (Authorization: Bearer …).');
      throw new UnauthorizedException('The access token is invalid.');
    }
    return user;
  }
}
