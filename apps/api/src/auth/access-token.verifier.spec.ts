import { JwtService } from '@nestjs/jwt';
import { UnauthorizedException } from '@pixmill/common';
import { loadConfig } from '@pixmill/config';
import { AccessTokenVerifier } from './access-token.verifier';

describe('AccessTokenVerifier', () => {
  const config = loadConfig({ JWT_SECRET: 's'.repeat(40) });
  const jwt = new JwtService({ secret: config.jwt.secret });
  const verifier = () => new AccessTokenVerifier(jwt, config);
  const message = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(UnauthorizedException);
      return (err as Error).message;
    }
    throw new Error('expected a refusal');
  };

  it('accepts an access token, again and again, as its subject', () => {
    const v = verifier();
    const token = jwt.sign({ sub: 'user-1', typ: 'access' }, { expiresIn: 60 });
    expect(v.verify(token)).toEqual({ id: 'user-1' });
    expect(v.verify(token)).toEqual({ id: 'user-1' });
  });

  it('a remembered token still expires', async () => {
    const v = verifier();
    const token = jwt.sign({ sub: 'user-1', typ: 'access', exp: Math.floor(Date.now() / 1000) + 1 });
    expect(v.verify(token)).toEqual({ id: 'user-1' });
    await new Promise((r) => setTimeout(r, 1100 + (1000 - (Date.now() % 1000))));
    expect(message(() => v.verify(token))).toMatch(/expired/);
    expect(message(() => v.verify(token))).toMatch(/expired/);
  });

  it('refuses other secrets, other types and tampering, and does not remember a refusal', () => {
    const v = verifier();
    expect(message(() => v.verify(new JwtService({ secret: 'o'.repeat(40) }).sign({ sub: 'u', typ: 'access' })))).toMatch(/invalid/);
    const refresh = jwt.sign({ sub: 'u', typ: 'refresh' });
    expect(message(() => v.verify(refresh))).toMatch(/invalid/);
    expect(message(() => v.verify(refresh))).toMatch(/invalid/);
    const good = jwt.sign({ sub: 'u', typ: 'access' }, { expiresIn: 60 });
    expect(message(() => v.verify(`${good.slice(0, -2)}xx`))).toMatch(/invalid/);
  });
});
