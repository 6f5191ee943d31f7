import { promises as dns, LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { isForbiddenAddress } from './forbidden-address.util';
import { WebhookUrlRejectedError } from './webhook-url-rejected.error';

/** Same shape as dns.promises.lookup with `all: true`, so tests can inject answers. */
export type LookupFn = (hostname: string, options: { all: true; verbatim: true }) => Promise<LookupAddress[]>;

/** A URL that passed the check, and the one address the request must connect to. */
export interface CheckedWebhookTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

export interface CheckWebhookUrlOptions {
  /** Hosts (WEBHOOK_ALLOWED_HOSTS) accepted without address checks, e.g. a receiver on the private network. */
  allowedHosts: string[];
  lookup?: LookupFn;
}

export const MAX_WEBHOOK_URL_LENGTH = 2048;

const defaultLookup: LookupFn = (hostname, options) => dns.lookup(hostname, options);

/**
 * Refuses webhook URLs that could reach Pixmill's own network (SPEC §5). Run it
 * when a URL is registered and again for every delivery, and connect only to
 * the returned address, so a DNS answer that changes in between (rebinding)
 * cannot redirect the request.
 */
export async function checkWebhookUrl(raw: string, opts: CheckWebhookUrlOptions): Promise<CheckedWebhookTarget> {
  if (typeof raw !== 'string' || raw.length === 0) throw new WebhookUrlRejectedError('webhookUrl is required');
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) {
    throw new WebhookUrlRejectedError(`webhookUrl is longer than ${MAX_WEBHOOK_URL_LENGTH} characters`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookUrlRejectedError('webhookUrl is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WebhookUrlRejectedError('webhookUrl must use http or https');
  }
  if (url.username || url.password) throw new WebhookUrlRejectedError('webhookUrl must not contain credentials');

  // WHATWG URL has already rewritten decimal, octal and hex IPv4 spellings
  // ("http://0x7f.1/") to dotted form, so the checks below see 127.0.0.1.
  const host = normalizeHost(url.hostname);
  const allowed = opts.allowedHosts.some((h) => normalizeHost(h) === host);
  const addresses = isIP(host) ? [host] : await resolve(host, opts.lookup ?? defaultLookup);

  if (!allowed) {
    const forbidden = addresses.find(isForbiddenAddress);
    if (forbidden !== undefined) {
      const verb = forbidden === host ? 'points to' : 'resolves to';
      throw new WebhookUrlRejectedError(`webhookUrl ${verb} a private or reserved address (${forbidden})`);
    }
  }
  const address = addresses[0];
  return { url, address, family: isIP(address) === 6 ? 6 : 4 };
}

function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

async function resolve(host: string, lookup: LookupFn): Promise<string[]> {
  let answers: LookupAddress[];
  try {
    answers = await lookup(host, { all: true, verbatim: true });
  } catch {
    answers = [];
  }
  const addresses = answers.map((a) => a.address);
  if (addresses.length === 0) throw new WebhookUrlRejectedError(`webhookUrl host ${host} does not resolve`);
  return addresses;
}
