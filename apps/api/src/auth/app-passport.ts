import type { FactoryProvider } from '@nestjs/common';
import passport from 'passport';
import { ApiKeyStrategy } from './api-key.strategy';
import { JwtStrategy } from './jwt.strategy';

/** The strategies of the one authentication chain, in the order tried. */
export const AUTH_CHAIN = ['jwt', 'api-key'];

/** This application's own passport, holding its own strategies (see APP_PASSPORT). */
export type AppPassport = passport.Authenticator;
export const APP_PASSPORT = Symbol('AppPassport');

/**
 * A passport Authenticator per application instead of passport's process-wide singleton: the
 * strategies hold this application's repositories and memos, and with the singleton the last
 * application built in a process (tests build several) would authenticate for all of them.
 */
export const appPassportProvider: FactoryProvider<AppPassport> = {
  provide: APP_PASSPORT,
  inject: [JwtStrategy, ApiKeyStrategy],
  useFactory: (jwt: JwtStrategy, apiKey: ApiKeyStrategy) => {
    const own = new passport.Authenticator();
    own.use('jwt', jwt);
    own.use('api-key', apiKey);
    return own;
  },
};
