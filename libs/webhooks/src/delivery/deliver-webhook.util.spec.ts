import { execFileSync } from 'node:child_process';
import { LookupAddress } from 'node:dns';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { LookupFn } from '../ssrf/check-webhook-url.util';
import { generateWebhookSecret } from '../signing/webhook-signature.util';
import { deliverWebhook, WebhookDeliveryRequest } from './deliver-webhook.util';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real receiver on 127.0.0.1 that records what reached it. */
async function startReceiver(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      handler(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, received, port: (server.address() as AddressInfo).port };
}

/** Answers with the next address on each call, then keeps repeating the last one. */
const lookupOnce = (...answers: string[]) => {
  let call = 0;
  return jest.fn<ReturnType<LookupFn>, Parameters<LookupFn>>(async () => {
    const address = answers[Math.min(call++, answers.length - 1)];
    return [{ address, family: address.includes(':') ? 6 : 4 } as LookupAddress];
  });
};

describe('deliverWebhook', () => {
  const secret = generateWebhookSecret();
  const body = JSON.stringify({ type: 'job.succeeded', timestamp: new Date().toISOString(), data: { id: 'job_1' } });
  const servers: Server[] = [];
  let port: number;
  let received: Received[];
  let respond: (req: IncomingMessage, res: ServerResponse) => void;

  beforeEach(async () => {
    respond = (_req, res) => res.writeHead(200).end('thanks');
    const receiver = await startReceiver((req, res) => respond(req, res));
    servers.push(receiver.server);
    ({ port, received } = receiver);
  });

  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  const deliver = (overrides: Partial<WebhookDeliveryRequest> = {}) =>
    deliverWebhook({
      url: `http://127.0.0.1:${port}/hooks`,
      msgId: 'msg_2Kd1',
      timestampSeconds: Math.floor(Date.now() / 1000),
      body,
      secrets: [secret],
      timeoutMs: 300,
      allowedHosts: ['127.0.0.1'],
      ...overrides,
    });

  const webhookHeaders = (headers: IncomingHttpHeaders) => ({
    'webhook-id': String(headers['webhook-id']),
    'webhook-timestamp': String(headers['webhook-timestamp']),
    'webhook-signature': String(headers['webhook-signature']),
  });

  it('POSTs a signed message that the standardwebhooks package verifies', async () => {
    const outcome = await deliver();

    expect(outcome).toEqual({
      ok: true,
      statusCode: 200,
      durationMs: expect.any(Number),
      error: null,
      responseSnippet: 'thanks',
      gone: false,
    });
    expect(received).toHaveLength(1);
    const [{ path, headers, body: sent }] = received;
    expect(path).toBe('/hooks');
    expect(sent).toBe(body);
    expect(headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'Pixmill-Webhooks/1',
      'webhook-id': 'msg_2Kd1',
      host: `127.0.0.1:${port}`,
    });
    expect(new Webhook(secret).verify(sent, webhookHeaders(headers))).toEqual(JSON.parse(body));
  });

  it('sends one signature per secret, each verifying alone', async () => {
    const next = generateWebhookSecret();
    await deliver({ secrets: [secret, next], userAgent: 'Pixmill-Webhooks/test' });

    const [{ headers, body: sent }] = received;
    expect(headers['user-agent']).toBe('Pixmill-Webhooks/test');
    expect(String(headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const s of [secret, next]) expect(new Webhook(s).verify(sent, webhookHeaders(headers))).toBeTruthy();
  });

  it('sends the request id as x-request-id, and no such header without one', async () => {
    await deliver({ requestId: 'req-7f3a' });
    await deliver();

    expect(received[0].headers['x-request-id']).toBe('req-7f3a');
    expect(received[1].headers).not.toHaveProperty('x-request-id');
    expect(new Webhook(secret).verify(received[0].body, webhookHeaders(received[0].headers))).toEqual(JSON.parse(body));
  });

  it('reports a server error with its status and the start of the body', async () => {
    respond = (_req, res) => res.writeHead(500).end('database on fire');

    expect(await deliver()).toMatchObject({
      ok: false,
      statusCode: 500,
      error: null,
      responseSnippet: 'database on fire',
      gone: false,
    });
  });

  it('keeps at most 1024 bytes of a big response', async () => {
    respond = (_req, res) => res.writeHead(200).end('é'.repeat(2560)); // 5 KB

    const outcome = await deliver();
    expect(outcome.ok).toBe(true);
    expect(Buffer.byteLength(outcome.responseSnippet!)).toBeLessThanOrEqual(1024);
    expect(outcome.responseSnippet).toBe('é'.repeat(512));
  });

  it('marks 410 Gone, so the endpoint can be disabled', async () => {
    respond = (_req, res) => res.writeHead(410).end();

    expect(await deliver()).toMatchObject({ ok: false, statusCode: 410, gone: true, responseSnippet: '' });
  });

  it('does not follow redirects', async () => {
    respond = (req, res) =>
      req.url === '/hooks' ? res.writeHead(302, { location: '/elsewhere' }).end() : res.writeHead(200).end();

    expect(await deliver()).toMatchObject({ ok: false, statusCode: 302, error: 'redirects are not followed' });
    expect(received.map((r) => r.path)).toEqual(['/hooks']);
  });

  it('gives up after timeoutMs when the receiver never answers', async () => {
    respond = () => undefined;

    const outcome = await deliver({ timeoutMs: 300 });
    expect(outcome).toMatchObject({ ok: false, statusCode: null, error: 'timeout after 300ms', gone: false });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(290);
    expect(outcome.durationMs).toBeLessThan(2000);
  });

  it('gives up after timeoutMs when the body never ends', async () => {
    respond = (_req, res) => res.writeHead(200).write('partial');

    expect(await deliver({ timeoutMs: 300 })).toMatchObject({ ok: false, error: 'timeout after 300ms' });
  });

  it('reports a refused connection', async () => {
    const closed = await startReceiver(() => undefined);
    await new Promise((resolve) => closed.server.close(resolve));

    const outcome = await deliver({ url: `http://127.0.0.1:${closed.port}/` });
    expect(outcome).toMatchObject({ ok: false, statusCode: null, responseSnippet: null });
    expect(outcome.error).toMatch(/ECONNREFUSED/);
  });

  it('refuses a forbidden URL without sending anything', async () => {
    const outcome = await deliver({ allowedHosts: [] });

    expect(outcome).toMatchObject({
      ok: false,
      statusCode: null,
      error: 'webhookUrl points to a private or reserved address (127.0.0.1)',
    });
    expect(received).toHaveLength(0);
  });

  describe('DNS rebinding', () => {
    it('connects to the address that was checked, not to a later DNS answer', async () => {
      // The first answer is public and passes the check; a rebinding attacker
      // then answers 127.0.0.1 to reach Pixmill's own network. "localhost" makes
      // the system resolver answer 127.0.0.1 as well, so a client that resolved
      // the name again, by either route, would reach the local receiver.
      const lookup = lookupOnce('93.184.215.14', '127.0.0.1');

      const outcome = await deliver({ url: `http://localhost:${port}/hooks`, allowedHosts: [], lookup });

      expect(outcome).toMatchObject({ ok: false, statusCode: null });
      expect(outcome.error).not.toMatch(/ENOTFOUND|EAI_AGAIN/);
      expect(lookup).toHaveBeenCalledTimes(1);
      expect(received).toHaveLength(0);
    });

    it('sends to the checked address under the original Host', async () => {
      // The system resolver knows nothing of receiver.test, and 127.0.0.2 has no
      // listener: the request arrives only if the connection uses the first answer.
      const lookup = lookupOnce('127.0.0.1', '127.0.0.2');

      const outcome = await deliver({
        url: `http://receiver.test:${port}/hooks`,
        allowedHosts: ['receiver.test'],
        lookup,
      });

      expect(outcome).toMatchObject({ ok: true, statusCode: 200 });
      expect(lookup).toHaveBeenCalledTimes(1);
      expect(received[0].headers.host).toBe(`receiver.test:${port}`);
    });
  });

  describe('https', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'pixmill-webhooks-'));
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=receiver.test',
        '-addext', 'subjectAltName=DNS:receiver.test',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ], { stdio: 'ignore' });
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('names the hostname in TLS and still validates the certificate', async () => {
      const serverNames: string[] = [];
      const server = createTlsServer({
        key: readFileSync(join(dir, 'key.pem')),
        cert: readFileSync(join(dir, 'cert.pem')),
        SNICallback: (name, cb) => {
          serverNames.push(name);
          cb(null, undefined);
        },
      }, (_req, res) => res.writeHead(200).end());
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const tlsPort = (server.address() as AddressInfo).port;

      const outcome = await deliver({
        url: `https://receiver.test:${tlsPort}/hooks`,
        allowedHosts: ['receiver.test'],
        lookup: lookupOnce('127.0.0.1'),
      });

      expect(serverNames).toEqual(['receiver.test']);
      // A self-signed certificate is refused: delivery never skips validation.
      expect(outcome).toMatchObject({ ok: false, statusCode: null });
      expect(outcome.error).toMatch(/self-signed|SELF_SIGNED/i);
    });
  });
});
