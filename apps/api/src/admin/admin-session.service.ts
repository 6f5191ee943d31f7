import { Inject, Injectable } from '@nestjs/common';
import type IORedis from 'ioredis';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { NotFoundException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { UserRepository } from '@pixmill/db';
import { REDIS } from '@pixmill/queue';
import { newAccountToken } from '../auth/account-token.util';
import { TokenService } from '../auth/token.service';

/** Where the dashboard lives; its session cookie is scoped to this path. */
export const QUEUE_DASHBOARD_PATH = '/admin/queues';
export const ADMIN_COOKIE = 'pixmill_admin';
/** How long the link from POST /v1/admin/queues/session may be opened, once. */
export const ADMIN_TICKET_TTL_SECONDS = 60;
/** How long the dashboard's cookie lasts; a new link is needed after it. */
export const ADMIN_SESSION_TTL_SECONDS = 15 * 60;

export interface AdminLink {
  url: string;
  expiresAt: string;
}

/**
 * The queue dashboard's sign-in (docs/decisions/059). A browser page cannot send a bearer
 * token, so a session with the admin role asks for a single-use link (a ticket, only its
 * hash kept in Redis for 60 s); opening it sets a short-lived HMAC-signed cookie scoped to
 * /admin/queues. The role is read again on every dashboard request, so a demotion counts at once.
 */
@Injectable()
export class AdminSessionService {
  private readonly key: Buffer;
  private readonly ticketPrefix: string;

  constructor(
    private readonly config: AppConfig,
    private readonly users: UserRepository,
    @Inject(REDIS) private readonly redis: IORedis,
  ) {
    this.key = createHmac('sha256', config.jwt.secret).update('pixmill:admin-session').digest();
    // The queue prefix is a hash tag: one Redis Cluster slot, as for the rest of Pixmill's keys.
    this.ticketPrefix = `${config.redis.queuePrefix}:admin-ticket:`;
  }

  /** A single-use link to the dashboard for an admin; anyone else is told there is nothing here. */
  async issueLink(userId: string): Promise<AdminLink> {
    if ((await this.users.roleOf(userId)) !== 'admin') throw new NotFoundException('Route');
    const { token, hash } = newAccountToken();
    await this.redis.set(this.ticketPrefix + hash, userId, 'EX', ADMIN_TICKET_TTL_SECONDS);
    return {
      url: `${this.config.http.publicBaseUrl}${QUEUE_DASHBOARD_PATH}/login?ticket=${encodeURIComponent(token)}`,
      expiresAt: new Date(Date.now() + ADMIN_TICKET_TTL_SECONDS * 1000).toISOString(),
    };
  }

  /** Spends a ticket: the Set-Cookie value of a dashboard session, or null (unknown, used, expired, no longer admin). */
  async redeemTicket(ticket: string): Promise<string | null> {
    if (!ticket) return null;
    const userId = await this.redis.getdel(this.ticketPrefix + TokenService.hash(ticket));
    if (!userId || (await this.users.roleOf(userId)) !== 'admin') return null;
    const exp = Math.floor(Date.now() / 1000) + ADMIN_SESSION_TTL_SECONDS;
    const payload = Buffer.from(JSON.stringify({ sub: userId, exp })).toString('base64url');
    const value = `${payload}.${this.sign(payload)}`;
    const secure = this.config.http.publicBaseUrl.startsWith('https:') ? '; Secure' : '';
    return `${ADMIN_COOKIE}=${value}; Path=${QUEUE_DASHBOARD_PATH}; Max-Age=${ADMIN_SESSION_TTL_SECONDS}; HttpOnly; SameSite=Lax${secure}`;
  }

  /** Whether a request's Cookie header holds a valid, unexpired dashboard session of an account that is still admin. */
  async isAdmin(cookieHeader: string | undefined): Promise<boolean> {
    const value = readCookie(cookieHeader, ADMIN_COOKIE);
    const [payload, mac] = value?.split('.') ?? [];
    if (!payload || !mac) return false;
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return false;
    let claims: { sub?: unknown; exp?: unknown };
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return false;
    }
    if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) return false;
    return (await this.users.roleOf(claims.sub)) === 'admin';
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
