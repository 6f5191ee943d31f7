import { createHmac } from 'node:crypto';
import { signUrl } from './sign-url.util';

const IMAGE = '0d7a3b6c-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const KEY = `pmk_${'A'.repeat(43)}`;

describe('signUrl (SPEC §8 public URLs)', () => {
  it('matches a fixed vector: base64url HMAC-SHA256 of the target up to &sig=', async () => {
    const url = await signUrl(IMAGE, { resize: '300x200', format: 'webp' }, KEY, { expiresAt: new Date('2030-01-01T00:00:00Z') });
    expect(url).toBe(`/i/${IMAGE}?resize=300x200&format=webp&exp=1893456000&sig=eb8HW83W5c_pDor-lG-Pqy0CRLYyyj65rXyxlPM_RxA`);
    expect(await signUrl(IMAGE, {}, KEY)).toBe(`/i/${IMAGE}?sig=I_bN6dSvknrdYKt5RfNe_xiQt9ulh9I8dyoc6ELwvxU`);
  });

  it('matches the test vector of the README (SPEC §8 signing)', async () => {
    const key = 'pmk_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc';
    const target = '/i/0b5e6f1c-8d3a-4f2e-9c71-2a4b6d8e0f13?resize=300x200&format=webp';
    expect(await signUrl('0b5e6f1c-8d3a-4f2e-9c71-2a4b6d8e0f13', [['resize', '300x200'], ['format', 'webp']], key)).toBe(`${target}&sig=k5fHqsxL52W-xRfvKesaz179oHOrZ8XSYRJUeacHwr0`);
  });

  it('signs the target as sent: repeated keys in order, percent-encoding included, sig last', async () => {
    const url = await signUrl(IMAGE, [['crop', '300x200+10+20'], ['watermark', 'text:© me'], ['crop', '10x10']], KEY, { baseUrl: 'https://img.example.com/' });
    const { pathname, search, origin } = new URL(url);
    expect(origin).toBe('https://img.example.com');
    const target = `${pathname}${search}`.replace(/&sig=[^&]+$/, '');
    expect(target).toBe(`/i/${IMAGE}?crop=300x200%2B10%2B20&watermark=text%3A%C2%A9%20me&crop=10x10`);
    expect(search.split('&').pop()).toBe(`sig=${createHmac('sha256', KEY).update(target).digest('base64url')}`);
  });
});
