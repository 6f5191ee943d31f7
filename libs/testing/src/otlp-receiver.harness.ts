import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One span as an OTLP/HTTP JSON export carries it, flattened with its service's name. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, string | number | boolean>;
  status: { code?: number; message?: string };
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
type KeyValue = { key: string; value: AnyValue };

function valueOf(v: AnyValue): string | number | boolean {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  return JSON.stringify(v);
}

const attributesOf = (kvs: KeyValue[] = []) => Object.fromEntries(kvs.map((kv) => [kv.key, valueOf(kv.value)]));

/**
 * A real OTLP/HTTP trace receiver on 127.0.0.1 for tracing tests: it takes the JSON bodies of
 * `POST /v1/traces` (what @opentelemetry/exporter-trace-otlp-http sends) and keeps every span.
 * Point a process at it with OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Bodies that were not OTLP JSON (a protobuf exporter, say): kept so a test can say why it saw no spans. */
  readonly refused: string[] = [];

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(): Promise<OtlpReceiver> {
    let receiver: OtlpReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const ok = req.method === 'POST' && req.url === '/v1/traces' && receiver!.take(String(req.headers['content-type']), body);
        res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = new OtlpReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return receiver;
  }

  private take(contentType: string, body: Buffer): boolean {
    if (!contentType.startsWith('application/json')) {
      this.refused.push(`${contentType}: ${body.length} bytes`);
      return false;
    }
    const doc = JSON.parse(body.toString('utf8')) as {
      resourceSpans?: Array<{
        resource?: { attributes?: KeyValue[] };
        scopeSpans?: Array<{ spans?: Array<Record<string, any>> }>;
      }>;
    };
    for (const rs of doc.resourceSpans ?? []) {
      const service = String(attributesOf(rs.resource?.attributes)['service.name'] ?? '');
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            service,
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            name: s.name,
            kind: Number(s.kind),
            startNs: BigInt(s.startTimeUnixNano),
            endNs: BigInt(s.endTimeUnixNano),
            attributes: attributesOf(s.attributes),
            status: s.status ?? {},
          });
        }
      }
    }
    return true;
  }

  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  /** Polls until `test` holds for the spans received so far (or the timeout passes); returns the last answer. */
  async waitFor<T>(test: (spans: ReceivedSpan[]) => T | undefined | false, timeoutMs = 20_000): Promise<T | undefined | false> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = test(this.spans);
      if (answer || Date.now() > deadline) return answer;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** One trace as an indented tree: service, span name and duration, in start order. */
  render(traceId: string): string {
    const spans = this.trace(traceId).sort((a, b) => (a.startNs < b.startNs ? -1 : 1));
    const ids = new Set(spans.map((s) => s.spanId));
    const lines: string[] = [];
    const walk = (parent: string, depth: number) => {
      for (const s of spans.filter((x) => (parent ? x.parentSpanId === parent : !ids.has(x.parentSpanId)))) {
        const ms = Number(s.endNs - s.startNs) / 1e6;
        lines.push(`${'  '.repeat(depth)}${s.name} [${s.service}] ${ms.toFixed(1)} ms`);
        walk(s.spanId, depth + 1);
      }
    };
    walk('', 0);
    return lines.join('\n');
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
