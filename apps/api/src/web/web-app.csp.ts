import type { AppConfig } from '@pixmill/config';

/** Origins a browser loads delivery URLs from: the CDN, or S3 when it signs URLs itself, or the API (`/files`). */
export function deliveryOrigins(config: AppConfig): string[] {
  const origins = new Set<string>();
  const add = (url: string | undefined): void => {
    if (!url) return;
    try {
      origins.add(new URL(url).origin);
    } catch {
      // A setting that is not a URL is refused by libs/config; nothing to allow here then.
    }
  };
  add(config.storage.cdnBaseUrl);
  if (config.storage.driver === 's3') {
    add(config.storage.s3.endpoint);
    const { bucket, region } = config.storage.s3;
    if (!config.storage.s3.endpoint && bucket) {
      add(`https://${bucket}.s3.${region}.amazonaws.com`);
      add(`https://s3.${region}.amazonaws.com`);
    }
  }
  add(config.http.publicBaseUrl);
  return [...origins];
}

/**
 * The web console's Content-Security-Policy: its own scripts and styles only (no inline code, no eval),
 * images and fetches from itself and the delivery origins (thumbnails; the builder's previews, which are
 * signed `/i/` URLs of this origin that redirect to a delivery origin, or a job's delivery URL for
 * accounts whose public URLs take presets only), data: (ThumbHash placeholders), no frames, no plugins.
 * No blob: since previews stopped being fetched into the page.
 */
export function webAppCsp(config: AppConfig): string {
  const delivery = deliveryOrigins(config).join(' ');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: ${delivery}`,
    `connect-src 'self' ${delivery}`,
    "font-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

/**
 * The queue dashboard's (Bull Board, /admin/queues) Content-Security-Policy: its scripts, styles,
 * images and API from its own origin. Its markup has inline style attributes and a <style>, hence
 * 'unsafe-inline' for styles (never for scripts). The web fonts it links from Google are left
 * blocked: an operator's browser calls no third party, and the page falls back to system fonts.
 */
export function queueDashboardCsp(): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "base-uri 'self'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}
