import { createParamDecorator, ExecutionContext } from '@nestjs/common';

/** The authenticated caller, as put on the request by the JWT or the API-key strategy. */
export interface AuthUser {
  id: string;
  /** Set when the caller authenticated with an API key (`pm_…`); a session (JWT) has every scope. */
  apiKey?: { id: string; scopes: readonly string[] };
}

export const CurrentUser = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): AuthUser => ctx.switchToHttp().getRequest().user,
);
