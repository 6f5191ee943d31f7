import { randomBytes } from 'node:crypto';
import { TokenService } from './token.service';

/** A fresh single-use token for a mailed link, and the hash that alone is stored. */
export function newAccountToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: TokenService.hash(token) };
}

/** A link of the account pages with its token. */
export function accountLink(publicBaseUrl: string, page: 'verify-email' | 'reset-password', token: string): string {
  return `${publicBaseUrl}/account/${page}?token=${encodeURIComponent(token)}`;
}
