import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InsufficientScopeException } from '@pixmill/common';
import { API_KEY_SCOPE, ApiKeyScope } from '../common/api-key-scope.decorator';
import type { AuthUser } from '../common/current-user.decorator';

/**
 * Global guard, right after the authentication guard: a caller with an API key reaches a
 * route only if the key has the scope the route names (@RequiresScope); a route that names
 * none is for sessions only. Sessions (JWTs) have every scope. 403 `insufficient_scope`.
 */
@Injectable()
export class ApiKeyScopeGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(ctx: ExecutionContext): boolean {
    const user = ctx.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    if (!user?.apiKey) return true;
    const scope = this.reflector.getAllAndOverride<ApiKeyScope | undefined>(API_KEY_SCOPE, [ctx.getHandler(), ctx.getClass()]);
    if (!scope) throw new InsufficientScopeException(null);
    if (!user.apiKey.scopes.includes(scope)) throw new InsufficientScopeException(scope);
    return true;
  }
}
