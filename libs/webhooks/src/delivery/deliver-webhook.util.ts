import { LookupAddress } from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { currentTraceHeaders } from '@pixmill/tracing';
import { CheckedWebhookTarget, checkWebhookUrl, LookupFn } from '../ssrf/check-webhook-url.util';
import { WebhookUrlRejectedError } from '../ssrf/webhook-url-rejected.error';
import { signWebhook } from '../signing/webhook-signature.util';

export interface WebhookDeliveryRequest {
  url: string;
  /** webhook-id: the same for every retry of one message. */
  msgId: string;
  timestampSeconds: number;
  body: string;
  /** During a rotation, both the old and the new secret. */
  secrets: string[];
  /** Bounds the whole attempt: resolving, connecting, response headers and the snippet. */
  timeoutMs: number;
  allowedHosts: string[];
  /**
   * Sent as `x-request-id`, so a receiver's logs meet Pixmill's: the id of the API request
   * that caused the message. Outside the signed content, like every header but the three webhook-* ones.
   */
  requestId?: string | null;
  lookup?: LookupFn;
  userAgent?: string;
}

/** One attempt, as recorded in webhook-deliveries. */
export interface DeliveryOutcome {
  ok: boolean;
  statusCode: number | null;
  durationMs: number;
  /** Why the attempt failed when the status code does not say it; null otherwise. */
  error: string | null;
  responseSnippet: string | null;
  /** 410 Gone: the receiver asks to disable the endpoint. */
  gone: boolean;
}

/** Enough of the answer to show a user why their receiver failed, without buffering big bodies. */
export const MAX_SNIPPET_BYTES = 1024;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** What the deadline rejects with, told apart from network errors by identity. */
const TIMED_OUT = Symbol('timed out');

/**
 * Sends one signed webhook and reports what happened. Never throws for a
 * failed delivery: the caller records the outcome and schedules the retry.
 */
export async function deliverWebhook(req: WebhookDeliveryRequest): Promise<DeliveryOutcome> {
  const started = performance.now();
  const finish = (o: Omit<DeliveryOutcome, 'durationMs'>): DeliveryOutcome => ({
    ...o,
    durationMs: Math.round(performance.now() - started),
  });
  const failed = (error: string) =>
    finish({ ok: false, statusCode: null, error, responseSnippet: null, gone: false });

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(TIMED_OUT), req.timeoutMs);
  });
  try {
    // Checked again at send time: the URL may have been registered before the
    // DNS answer changed, or before WEBHOOK_ALLOWED_HOSTS did.
    const target = await Promise.race([checkWebhookUrl(req.url, req), deadline]);
    const { statusCode, snippet } = await send(target, req, deadline);
    const redirected = statusCode >= 300 && statusCode < 400;
    return finish({
      ok: statusCode >= 200 && statusCode < 300,
      statusCode,
      error: redirected ? 'redirects are not followed' : null,
      responseSnippet: snippet,
      gone: statusCode === 410,
    });
  } catch (err) {
    if (err === TIMED_OUT) return failed(`timeout after ${req.timeoutMs}ms`);
    if (err instanceof WebhookUrlRejectedError) return failed(err.reason);
    return failed(describeError(err));
  } finally {
    clearTimeout(timer);
  }
}

function send(
  target: CheckedWebhookTarget,
  req: WebhookDeliveryRequest,
  deadline: Promise<never>,
): Promise<{ statusCode: number; snippet: string }> {
  const { url, address, family } = target;
  const isHttps = url.protocol === 'https:';
  const options: https.RequestOptions = {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(req.body),
      'webhook-id': req.msgId,
      'webhook-timestamp': String(req.timestampSeconds),
      'webhook-signature': signWebhook(req.secrets, req.msgId, req.timestampSeconds, req.body),
      'user-agent': req.userAgent ?? 'Pixmill-Webhooks/1',
      ...(req.requestId ? { 'x-request-id': req.requestId } : {}),
      // W3C `traceparent` of the delivery's span when tracing is on, so a traced receiver joins the
      // trace of the upload or render that caused the message. Unsigned, like x-request-id.
      ...currentTraceHeaders(),
    },
    // A fresh connection per attempt: a pooled socket may lead to an address checked long ago.
    agent: false,
    // Connect to exactly the address that was checked, whatever DNS answers now.
    lookup: (_hostname: string, opts: { all?: boolean }, callback: LookupCallback) =>
      opts.all ? callback(null, [{ address, family }]) : callback(null, address, family),
  };
  // TLS still names and verifies the hostname, not the pinned address (SNI is not sent for IP literals).
  if (isHttps && !isIP(url.hostname.replace(/^\[|\]$/g, ''))) options.servername = url.hostname;

  return new Promise((resolve, reject) => {
    const request = (isHttps ? https : http).request(url, options);
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      request.destroy();
      fn();
    };
    deadline.catch((err) => settle(() => reject(err)));
    request.on('error', (err) => settle(() => reject(err)));
    request.on('response', (res) => {
      const decoder = new StringDecoder('utf8');
      let snippet = '';
      let bytes = 0;
      const done = () => settle(() => resolve({ statusCode: res.statusCode ?? 0, snippet }));
      res.on('data', (chunk: Buffer) => {
        const part = chunk.subarray(0, MAX_SNIPPET_BYTES - bytes);
        bytes += part.length;
        snippet += decoder.write(part);
        if (bytes >= MAX_SNIPPET_BYTES) done();
      });
      res.on('end', done);
      // The status has arrived; a body cut short does not change the outcome.
      res.on('error', done);
      res.on('aborted', done);
    });
    request.end(req.body);
  });
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const message = code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  return message.slice(0, 200);
}
