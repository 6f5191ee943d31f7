import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createDataSource, ReadCache, UrlKeyRepository } from '@pixmill/db';
import { testConfig, TEST_DATABASE_URL } from '@pixmill/testing';
import { UrlKeyCipher } from '../../apps/api/src/public-urls/url-key.cipher';
import { UrlKeysService } from '../../apps/api/src/public-urls/url-keys.service';

/**
 * The in-process memo of decrypted URL keys (docs/decisions/050), against the real PostgreSQL
 * and Redis: two services stand for two API processes sharing them.
 */
describe('UrlKeysService.signingKeys (real PostgreSQL and Redis)', () => {
  let ds: DataSource;
  const caches: ReadCache[] = [];

  function apiProcess(memoSeconds: string): UrlKeysService {
    const config = testConfig({ URL_KEY_MEMO_SECONDS: memoSeconds });
    const cache = new ReadCache(config, ds);
    caches.push(cache);
    return new UrlKeysService(new UrlKeyRepository(ds, cache), new UrlKeyCipher(config), config);
  }
  async function newUser(): Promise<string> {
    const [{ id }] = await ds.query(`INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id`, [`keys-${randomUUID()}@example.com`]);
    return id;
  }

  beforeAll(async () => {
    ds = await createDataSource({ url: TEST_DATABASE_URL, poolSize: 4 }).initialize();
  });
  afterAll(async () => {
    caches.forEach((c) => c.onApplicationShutdown());
    await ds.destroy();
  });

  it('keeps the keys for URL_KEY_MEMO_SECONDS; a rotation elsewhere is seen after that, or at once when asked fresh', async () => {
    const here = apiProcess('1');
    const elsewhere = apiProcess('1');
    const userId = await newUser();
    const first = await here.currentKey(userId);
    expect(await here.signingKeys(userId)).toMatchObject({ remembered: false, keys: [{ key: first }] });
    expect(await here.signingKeys(userId)).toMatchObject({ remembered: true, keys: [{ key: first }] });

    const second = (await elsewhere.rotate(userId)).key;
    expect((await here.signingKeys(userId)).keys.map((k) => k.key)).toEqual([first]); // remembered, not yet seen
    expect((await here.signingKeys(userId, { fresh: true })).keys.map((k) => k.key)).toEqual([second, first]);

    const third = (await elsewhere.rotate(userId)).key;
    await new Promise((r) => setTimeout(r, 1100));
    expect(await here.signingKeys(userId)).toMatchObject({ remembered: false });
    expect((await here.signingKeys(userId)).keys.map((k) => k.key)).toEqual([third, second, first]);
  });

  it('a rotation through this process forgets the account; a remembered key past its 24 h no longer signs', async () => {
    const here = apiProcess('60');
    const userId = await newUser();
    const first = await here.currentKey(userId);
    await here.signingKeys(userId);
    const second = (await here.rotate(userId)).key;
    expect(await here.signingKeys(userId)).toMatchObject({ remembered: false });
    expect((await here.signingKeys(userId)).keys.map((k) => k.key)).toEqual([second, first]);
    // The replaced key's 24 h end while its row is remembered.
    await ds.query(`UPDATE url_keys SET expires_at = now() + interval '1 second' WHERE user_id = $1 AND expires_at IS NOT NULL`, [userId]);
    await caches[caches.length - 1].invalidate('url-keys', [userId]); // the update went behind the read cache's back
    expect((await here.signingKeys(userId, { fresh: true })).keys.map((k) => k.key)).toEqual([second, first]);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await here.signingKeys(userId)).toMatchObject({ remembered: true, keys: [{ key: second }] });
  });

  it('URL_KEY_MEMO_SECONDS=0 reads the keys every time', async () => {
    const here = apiProcess('0');
    const userId = await newUser();
    await here.currentKey(userId);
    expect(await here.signingKeys(userId)).toMatchObject({ remembered: false });
    expect(await here.signingKeys(userId)).toMatchObject({ remembered: false });
  });
});
