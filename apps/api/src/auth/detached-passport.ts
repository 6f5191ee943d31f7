import passport from 'passport';

/** What the strategies' PassportStrategy base registers them with: nothing uses it (they go to APP_PASSPORT, app-passport.ts). */
export const DETACHED_PASSPORT = new passport.Authenticator();
