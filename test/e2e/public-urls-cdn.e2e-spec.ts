import { createHmac } from 'node:crypto';
import path from 'node:path';
import sharp from 'sharp';
import {
  HttpClient,
  jpeg,
  RunningApi,
  RunningNginx,
  startApi,
  startNginx,
  startWorkerProcess,
  TestUser,
  uploadForm,
  UserFactory,
  WorkerProcess,
} from '@pixmill/testing';

const sign = (key: string, target: string) =>
  `${target}${target.includes('?') ? '&' : '?'}sig=${createHmac('sha256', key).update(target).digest('base64url')}`;

/** Requests the API answered on the public route, by its own metrics (not nginx's word). */
async function apiHitsOnPublicRoute(api: RunningApi): Promise<number> {
  const text = await (await fetch(`${api.baseUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('pixmill_http_request_duration_seconds_count') && l.includes('route="/i/'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describe('public image URLs through the nginx CDN config (e2e)', () => {
  let api: RunningApi;
  let worker: WorkerProcess;
  let cdn: RunningNginx;
  let user: TestUser;
  let imageId: string;
  let key: string;

  beforeAll(async () => {
    api = await startApi({ RATE_LIMIT_PER_MINUTE: '100000' });
    worker = await startWorkerProcess({ STORAGE_LOCAL_DIR: api.config.storage.localDir });
    cdn = await startNginx(path.join(__dirname, '../../deploy/nginx/public-images.conf'), {
      originVar: 'api_origin',
      origin: new URL(api.baseUrl).host,
    });
    const http = new HttpClient(api.baseUrl);
    user = await new UserFactory(http).plan('pro').create();
    const up = await user.http.request('POST', '/v1/images', { body: uploadForm(await jpeg(800, 600), 'photo.jpg') });
    imageId = up.body.id;
    key = (await user.http.get('/v1/url-keys')).body.keys[0].key;
  });
  afterAll(async () => {
    await cdn?.stop();
    await worker?.stop();
    await api?.close();
  });

  it('200 requests of one signed URL reach the API once', async () => {
    const url = `${cdn.baseUrl}${sign(key, `/i/${imageId}?resize=320x240&fit=fill&format=webp`)}`;
    const before = await apiHitsOnPublicRoute(api);
    const statuses: number[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(url, { redirect: 'manual' })));
      statuses.push(...answers.map((a) => a.status));
    }
    expect(statuses).toEqual(Array(200).fill(302));
    expect((await apiHitsOnPublicRoute(api)) - before).toBe(1);
    const followed = await fetch(url);
    const meta = await sharp(Buffer.from(await followed.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 320, 240]);
  });

  it('format=auto: three Accept classes → AVIF, WebP, JPEG, each cached apart, with Vary: Accept', async () => {
    const url = `${cdn.baseUrl}${sign(key, `/i/${imageId}?resize=160x120&fit=fill&format=auto`)}`;
    const browsers = {
      avif: ['image/avif,image/webp,image/apng,*/*;q=0.8', 'image/avif,image/webp,*/*'],
      webp: ['image/webp,*/*', 'image/webp,image/png,image/*;q=0.8,*/*;q=0.5'],
      jpeg: ['image/jpeg,*/*', '*/*'],
    };
    const before = await apiHitsOnPublicRoute(api);
    for (const [expected, accepts] of Object.entries(browsers)) {
      for (const accept of accepts) {
        for (let i = 0; i < 3; i++) {
          const res = await fetch(url, { headers: { accept }, redirect: 'manual' });
          expect(res.status).toBe(302);
          expect(res.headers.get('vary')).toBe('Accept');
          const bytes = Buffer.from(await (await fetch(res.headers.get('location')!)).arrayBuffer());
          expect((await sharp(bytes).metadata()).format).toBe(expected === 'avif' ? 'heif' : expected);
        }
      }
    }
    // One API hit per class, not per Accept string nor per request.
    expect((await apiHitsOnPublicRoute(api)) - before).toBe(3);
  });

  it('errors are not cached: a bad signature reaches the API each time', async () => {
    const bad = `${cdn.baseUrl}/i/${imageId}?resize=10x10&sig=${'A'.repeat(43)}`;
    const before = await apiHitsOnPublicRoute(api);
    for (let i = 0; i < 3; i++) expect((await fetch(bad)).status).toBe(403);
    expect((await apiHitsOnPublicRoute(api)) - before).toBe(3);
  });
});
