import { createParamDecorator, ExecutionContext } from '@nestjs/common';

/** The authenticated caller, as put on the request by the JWT strategy. */
export interface AuthUser {
  id: string;
}

export const CurrentUser = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): AuthUser => ctx.switchToHttp().getRequest().user,
);
