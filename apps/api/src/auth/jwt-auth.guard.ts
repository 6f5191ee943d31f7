import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { UnauthorizedException } from '@pixmill/common';
import type { AuthUser } from '../common/current-user.decorator';
import { IS_PUBLIC } from '../common/public.decorator';
import { AccessTokenVerifier } from './access-token.verifier';

const BEARER = /^bearer\s+(\S+)\s*$/i;

/** Global guard: every route needs a valid access token (`Authorization: Bearer …`) unless marked @Public(). */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: AccessTokenVerifier,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [ctx.getHandler(), ctx.getClass()])) return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest & { user?: AuthUser }>();
    const token = BEARER.exec(req.headers.authorization ?? '')?.[1];
    if (!token) throw new UnauthorizedException('An access token is required (Authorization: Bearer …).');
    req.user = this.tokens.verify(token);
    return true;
  }
}
