import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { InvalidCredentialsException, NotFoundException, TokenInvalidException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { AccountTokenRepository, RefreshTokenRepository, UserRepository } from '@pixmill/db';
import { passwordResetMail } from '../mail/account-mail.templates';
import { MailerService } from '../mail/mailer.service';
import { accountLink, newAccountToken } from './account-token.util';
import { PasswordHasher } from './password.hasher';
import { TokenService } from './token.service';

/** Forgotten passwords (a mailed single-use link) and password changes; both end every session of the account. */
@Injectable()
export class PasswordService {
  constructor(
    private readonly ds: DataSource,
    private readonly users: UserRepository,
    private readonly accountTokens: AccountTokenRepository,
    private readonly refreshTokens: RefreshTokenRepository,
    private readonly passwords: PasswordHasher,
    private readonly mailer: MailerService,
    private readonly config: AppConfig,
  ) {}

  /**
   * Mails a reset link when the address has an account. The caller's answer is the same
   * either way, and it does not wait for the mail: an unknown address costs the same one
   * lookup, a known one an insert more, and the mail is sent after the answer.
   */
  async requestReset(email: string): Promise<void> {
    const { token, hash } = newAccountToken();
    const user = await this.users.findByEmail(email);
    if (!user) return;
    const ttl = this.config.accounts.passwordResetTtlSeconds;
    await this.accountTokens.insert(user.id, 'password_reset', hash, ttl);
    const link = accountLink(this.config.http.publicBaseUrl, 'reset-password', token);
    this.mailer.sendInBackground(passwordResetMail(user.email, link, Math.round(ttl / 60)));
  }

  /** Sets the new password with a reset token, spends every reset token of the account and revokes all its sessions. */
  async confirmReset(token: string, password: string): Promise<void> {
    // Hashed before the token is spent: a failure here leaves the link usable.
    const passwordHash = await this.passwords.hash(password);
    const done = await this.ds.transaction(async (em) => {
      const userId = await this.accountTokens.consume(TokenService.hash(token), 'password_reset', em);
      if (!userId) return false;
      await this.users.setPasswordHash(userId, passwordHash, em);
      await this.refreshTokens.revokeAllOfUser(userId, em);
      return true;
    });
    if (!done) throw new TokenInvalidException();
  }

  /** Changes the password of a caller who knows the current one; every session of the account is revoked. */
  async change(userId: string, currentPassword: string, newPassword: string): Promise<void> {
    const user = await this.users.findById(userId);
    if (!user) throw new NotFoundException('Account');
    if (!(await this.passwords.verify(user.passwordHash, currentPassword))) throw new InvalidCredentialsException();
    const passwordHash = await this.passwords.hash(newPassword);
    await this.ds.transaction(async (em) => {
      await this.users.setPasswordHash(userId, passwordHash, em);
      await this.refreshTokens.revokeAllOfUser(userId, em);
    });
  }
}
