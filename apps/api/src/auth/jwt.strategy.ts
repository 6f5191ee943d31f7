import { Injectable } from '@nestjs/common';
import { createSecretKey } from 'node:crypto';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfig } from '@pixmill/config';
import type { AuthUser } from '../common/current-user.decorator';
import type { AccessTokenClaims } from './token.service';

/** Verifies the bearer JWT's signature, expiry and type; the caller is its `sub`. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(config: AppConfig) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // A KeyObject, made once: given a string, the JWT library first tries (and fails) to
      // parse it as a public key on every request, which cost ~10% of the API's CPU when polling.
      // (passport-jwt's types predate KeyObject; jsonwebtoken, which verifies, accepts it.)
      secretOrKey: createSecretKey(Buffer.from(config.jwt.secret)) as unknown as string,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  validate(claims: AccessTokenClaims): AuthUser | false {
    if (claims.typ !== 'access' || typeof claims.sub !== 'string') return false;
    return { id: claims.sub };
  }
}
