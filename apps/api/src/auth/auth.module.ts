import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { AppConfig } from '@pixmill/config';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { JwtAuthGuard } from './jwt-auth.guard';
import { JwtStrategy } from './jwt.strategy';
import { VerifiedTokenMemo } from './verified-token.memo';
import { TokenService } from './token.service';
import { MailModule } from '../mail/mail.module';
import { SlidingWindowRateLimiter } from '../rate-limit/sliding-window-rate-limiter.service';
import { AccountPagesController } from './account-pages.controller';
import { EmailVerificationService } from './email-verification.service';
import { PasswordHasher } from './password.hasher';
import { PasswordService } from './password.service';
import { VerifiedEmailGuard } from './verified-email.guard';
import { ApiKeyMemo } from './api-key.memo';
import { ApiKeyScopeGuard } from './api-key-scope.guard';
import { ApiKeyStrategy } from './api-key.strategy';
import { appPassportProvider } from './app-passport';

@Module({
  imports: [
    MailModule,
    PassportModule,
    JwtModule.registerAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({ secret: config.jwt.secret, signOptions: { algorithm: 'HS256' } }),
    }),
  ],
  controllers: [AuthController, AccountPagesController],
  providers: [
    AuthService,
    TokenService,
    JwtStrategy,
    VerifiedTokenMemo,
    ApiKeyStrategy,
    ApiKeyMemo,
    appPassportProvider,
    // APP_GUARDs run in this order: the caller is known, then its key's scope is checked, then its address.
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_GUARD, useClass: ApiKeyScopeGuard },
    VerifiedEmailGuard,
    { provide: APP_GUARD, useExisting: VerifiedEmailGuard },
    PasswordHasher,
    EmailVerificationService,
    PasswordService,
    // Its own instance for the per-account resend limit (RateLimitModule's guard must come after this module's).
    SlidingWindowRateLimiter,
  ],
  exports: [AuthService, PasswordService, PasswordHasher, VerifiedTokenMemo, ApiKeyMemo, VerifiedEmailGuard],
})
export class AuthModule {}
