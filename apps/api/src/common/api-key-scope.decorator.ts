import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';

/** What an API key may be allowed to do (docs/decisions/033). */
export const API_KEY_SCOPES = ['images:read', 'images:write', 'transformations', 'webhooks', 'account'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export const API_KEY_SCOPE = 'pixmill:api-key-scope';
/** The OpenAPI mark of an operation's scope; documentApiKeyScopes() turns it into its security requirement. */
export const API_KEY_SCOPE_EXTENSION = 'x-api-key-scope';

/**
 * The scope an API key needs for the route (or every route of the controller); the mark
 * closest to the handler wins. A route with no mark refuses API keys (403
 * `insufficient_scope`): only a logged-in session may call it.
 */
export const RequiresScope = (scope: ApiKeyScope) =>
  applyDecorators(SetMetadata(API_KEY_SCOPE, scope), ApiExtension(API_KEY_SCOPE_EXTENSION, scope));
