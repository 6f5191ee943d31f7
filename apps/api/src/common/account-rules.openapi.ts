import type { OpenAPIObject, ResponseObject } from '@nestjs/swagger';
import { addProblemResponses } from './api-problems.decorator';
import { API_KEY_SCOPE_EXTENSION } from './api-key-scope.decorator';
import { VERIFIED_EMAIL_EXTENSION } from './verified-email.decorator';

/** The security scheme of API keys (the session JWT's is `bearer`). */
export const API_KEY_SECURITY_SCHEME = 'apiKey';

/**
 * Operations marked @VerifiedEmailRequired() document `email_not_verified` here, merged
 * into the 403 they may document already (a class-level response would replace it).
 * Every authenticated operation documents who may call it: a session (`bearer`), and an
 * API key with the operation's scope (`apiKey: [scope]`) when it names one (@RequiresScope);
 * both ways, `insufficient_scope` for keys that may not.
 */
export function documentAccountRules(doc: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(doc.paths)) {
    for (const op of Object.values(item)) {
      if (!op || typeof op !== 'object' || !('responses' in op)) continue;
      const responses = op.responses as Record<string, ResponseObject>;
      const marks = op as Record<string, unknown>;
      if (marks[VERIFIED_EMAIL_EXTENSION] === true) {
        addProblemResponses(responses, [['email_not_verified', 'the account’s email is not verified and REQUIRE_VERIFIED_EMAIL is on']]);
      }
      const security = (op as { security?: Array<Record<string, string[]>> }).security;
      if (!security?.some((s) => 'bearer' in s)) continue;
      const scope = marks[API_KEY_SCOPE_EXTENSION];
      if (typeof scope === 'string') {
        (op as { security: unknown }).security = [{ bearer: [] }, { [API_KEY_SECURITY_SCHEME]: [scope] }];
        addProblemResponses(responses, [['insufficient_scope', `an API key without the scope \`${scope}\``]]);
      } else {
        (op as { security: unknown }).security = [{ bearer: [] }];
        addProblemResponses(responses, [['insufficient_scope', 'an API key: this route is for logged-in sessions only']]);
      }
    }
  }
  return doc;
}
