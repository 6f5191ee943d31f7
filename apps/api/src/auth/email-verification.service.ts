import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { NotFoundException, RateLimitedException, TokenInvalidException, UnavailableException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { AccountTokenRepository, UserEntity, UserRepository } from '@pixmill/db';
import { verificationMail } from '../mail/account-mail.templates';
import { MailerService } from '../mail/mailer.service';
import { RateLimitDecision, SlidingWindowRateLimiter } from '../rate-limit/sliding-window-rate-limiter.service';
import { accountLink, newAccountToken } from './account-token.util';
import { TokenService } from './token.service';

const HOUR_MS = 3_600_000;

/** The link mailed at signup (and again on request) that proves the address is the account's. */
@Injectable()
export class EmailVerificationService {
  constructor(
    private readonly ds: DataSource,
    private readonly users: UserRepository,
    private readonly accountTokens: AccountTokenRepository,
    private readonly mailer: MailerService,
    private readonly limiter: SlidingWindowRateLimiter,
    private readonly config: AppConfig,
  ) {}

  /** Stores a fresh token and mails its link; the mail leaves after the request is answered. */
  async sendLink(user: Pick<UserEntity, 'id' | 'email'>): Promise<void> {
    const { token, hash } = newAccountToken();
    const ttl = this.config.accounts.verificationTtlSeconds;
    await this.accountTokens.insert(user.id, 'verify_email', hash, ttl);
    const link = accountLink(this.config.http.publicBaseUrl, 'verify-email', token);
    this.mailer.sendInBackground(verificationMail(user.email, link, Math.round(ttl / 3600)));
  }

  /** Spends the token and marks its account's address verified; 400 `token_invalid` for a bad, used or expired one. */
  async verify(token: string): Promise<void> {
    const hash = TokenService.hash(token);
    const verified = await this.ds.transaction(async (em) => {
      const userId = await this.accountTokens.consume(hash, 'verify_email', em);
      return userId !== null && (await this.users.markEmailVerified(userId, em));
    });
    if (!verified) throw new TokenInvalidException();
  }

  /** Mails a new link, a few times an hour per account; nothing is sent to an address already verified. */
  async resend(userId: string): Promise<void> {
    const user = await this.users.findById(userId);
    if (!user) throw new NotFoundException('Account');
    if (user.emailVerifiedAt) return;
    let decision: RateLimitDecision;
    try {
      decision = await this.limiter.hit(`verify-resend:${userId}`, this.config.accounts.verificationResendPerHour, HOUR_MS);
    } catch {
      throw new UnavailableException('Rate limiting is unavailable (Redis does not answer); try again shortly.');
    }
    if (!decision.allowed) throw new RateLimitedException(decision.resetSeconds);
    await this.sendLink(user);
  }
}
