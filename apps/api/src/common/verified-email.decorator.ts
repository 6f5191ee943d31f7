import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';

export const VERIFIED_EMAIL_REQUIRED = 'pixmill:verified-email-required';
/** The OpenAPI mark of such an operation; documentAccountRules() adds its problem response. */
export const VERIFIED_EMAIL_EXTENSION = 'x-requires-verified-email';

/**
 * The route (or every route of the controller) refuses accounts whose email is not
 * verified, 403 `email_not_verified`, when REQUIRE_VERIFIED_EMAIL is on; with it off
 * the mark does nothing.
 */
export const VerifiedEmailRequired = () =>
  applyDecorators(SetMetadata(VERIFIED_EMAIL_REQUIRED, true), ApiExtension(VERIFIED_EMAIL_EXTENSION, true));
