import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { PlanName } from '@pixmill/config';
import { HttpClient } from './http.client';
import { TEST_DATABASE_URL } from './test-env';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  /** An HTTP client authenticated as this user. */
  http: HttpClient;
}

/** Creates real accounts through the public signup route: `await new UserFactory(http).plan('pro').create()`. */
export class UserFactory {
  private planName: PlanName = 'free';
  private emailValue?: string;
  private passwordValue = 'correct horse battery staple';

  constructor(private readonly http: HttpClient) {}

  plan(plan: PlanName): this {
    this.planName = plan;
    return this;
  }
  email(email: string): this {
    this.emailValue = email;
    return this;
  }
  password(password: string): this {
    this.passwordValue = password;
    return this;
  }

  async create(): Promise<TestUser> {
    const email = this.emailValue ?? `user-${randomUUID()}@example.com`;
    const res = await this.http.as(undefined).post('/v1/auth/signup', { email, password: this.passwordValue });
    if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${res.text}`);
    if (this.planName !== 'free') {
      const db = new Client({ connectionString: TEST_DATABASE_URL });
      await db.connect();
      await db.query('UPDATE users SET plan = $1 WHERE id = $2', [this.planName, res.body.user.id]);
      await db.end();
    }
    return {
      id: res.body.user.id,
      email,
      password: this.passwordValue,
      accessToken: res.body.accessToken,
      refreshToken: res.body.refreshToken,
      http: this.http.as(res.body.accessToken),
    };
  }
}
