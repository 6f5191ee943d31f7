import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body exactly as received (what a signature covers). */
  body: string;
  receivedAt: number;
}

/** A received request's headers as plain strings, the shape webhook verifiers take. */
export function headersOf(h: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]));
}

/** What the receiver does with one request: answer with a status, or never answer (a timeout for the sender). */
export type ReceiverAnswer = number | 'hang';

/**
 * A real HTTP receiver on 127.0.0.1 for webhook tests. Each path has its own script of
 * answers, used in order; the last one repeats. Every request is recorded.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private readonly scripts = new Map<string, ReceiverAnswer[]>();
  private readonly hanging = new Set<import('node:http').ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
  ) {}

  static async start(): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => receiver!.handle(req.url ?? '/', req.headers, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = new WebhookReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return receiver;
  }

  /** A fresh path on this receiver, answering with `answers` in order (default: 200 forever). */
  url(name: string, answers: ReceiverAnswer[] = [200]): string {
    const path = `/${name}-${Math.random().toString(36).slice(2, 10)}`;
    this.scripts.set(path, [...answers]);
    return `${this.baseUrl}${path}`;
  }

  requestsTo(url: string): ReceivedWebhook[] {
    const path = new URL(url).pathname;
    return this.received.filter((r) => r.path === path);
  }

  /** Waits until `url` has received `count` requests (or the timeout passes), then returns them. */
  async waitFor(url: string, count = 1, timeoutMs = 20_000): Promise<ReceivedWebhook[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.requestsTo(url).length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return this.requestsTo(url);
  }

  private handle(path: string, headers: IncomingHttpHeaders, body: string, res: import('node:http').ServerResponse): void {
    this.received.push({ path, headers, body, receivedAt: Date.now() });
    const script = this.scripts.get(path) ?? [404];
    const answer = script.length > 1 ? script.shift()! : script[0];
    if (answer === 'hang') {
      this.hanging.add(res);
      return;
    }
    res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer >= 400 ? `answer ${answer}` : 'ok');
  }

  /** Ends every request left hanging: its sender sees the connection reset. */
  releaseHanging(): void {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
  }

  async close(): Promise<void> {
    this.releaseHanging();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
