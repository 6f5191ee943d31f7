import type { OpenAPIObject, ResponseObject } from '@nestjs/swagger';
import { addProblemResponses } from './api-problems.decorator';
import { VERIFIED_EMAIL_EXTENSION } from './verified-email.decorator';

/**
 * Operations marked @VerifiedEmailRequired() document `email_not_verified` here, merged
 * into the 403 they may document already (a class-level response would replace it).
 */
export function documentAccountRules(doc: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(doc.paths)) {
    for (const op of Object.values(item)) {
      if (!op || typeof op !== 'object' || !('responses' in op)) continue;
      if ((op as Record<string, unknown>)[VERIFIED_EMAIL_EXTENSION] !== true) continue;
      addProblemResponses(op.responses as Record<string, ResponseObject>, [
        ['email_not_verified', 'the account’s email is not verified and REQUIRE_VERIFIED_EMAIL is on'],
      ]);
    }
  }
  return doc;
}
