import { testConfig } from '@pixmill/testing';
import { readFileSync } from 'node:fs';
import { deliveryOrigins, queueDashboardCsp, webAppCsp } from './web-app.csp';

describe('web console CSP', () => {
  it('allows images and fetches from the delivery origins the configuration names, nothing inline', () => {
    const cdn = testConfig({ PUBLIC_BASE_URL: 'https://api.example.com', CDN_BASE_URL: 'https://cdn.example.com/images' });
    expect(deliveryOrigins(cdn)).toEqual(['https://cdn.example.com', 'https://api.example.com']);
    const csp = webAppCsp(cdn);
    expect(csp).toContain("img-src 'self' data: https://cdn.example.com https://api.example.com");
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
  });

  it('names the S3 endpoint, or the bucket host on AWS, when S3 signs the URLs', () => {
    const minio = testConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'pix', S3_ENDPOINT: 'http://minio:9000', PUBLIC_BASE_URL: 'http://localhost:3000' });
    expect(deliveryOrigins(minio)).toEqual(['http://minio:9000', 'http://localhost:3000']);
    const aws = testConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'pix', S3_REGION: 'eu-west-1', PUBLIC_BASE_URL: 'http://localhost:3000' });
    expect(deliveryOrigins(aws)).toEqual(['https://pix.s3.eu-west-1.amazonaws.com', 'https://s3.eu-west-1.amazonaws.com', 'http://localhost:3000']);
  });

  it('the queue dashboard: its own scripts only (never inline), inline styles for its markup, nothing from third parties', () => {
    const csp = queueDashboardCsp();
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self' 'unsafe-inline';");
    expect(csp).toContain("connect-src 'self';");
    expect(csp).not.toMatch(/https?:/);
    // What Bull Board's page loads: scripts and styles relative to its <base>, i.e. same origin.
    const page = readFileSync(require.resolve('@bull-board/ui/dist/index.ejs'), 'utf8');
    for (const [, src] of page.matchAll(/<script[^>]+src="([^"]+)"/g)) expect(src).toMatch(/^static\//);
    expect(page).not.toMatch(/<script(?![^>]*(src=|type="application\/json"))[^>]*>/);
  });
});
