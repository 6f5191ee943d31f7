import { utf8 } from './hmac.util';

/** What `upload` takes: bytes, a Blob/File, or a stream of bytes (web ReadableStream or a Node Readable). */
export type UploadData = Blob | ArrayBuffer | Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export interface UploadProgress {
  /** File bytes handed to the connection so far. */
  loaded: number;
  /** The file's size, when known (a Blob's, a buffer's, or `size` given for a stream). */
  total?: number;
}

export interface MultipartFile {
  data: UploadData;
  filename: string;
  contentType?: string;
  size?: number;
}

function sizeOf(data: UploadData): number | undefined {
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data.size;
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (data instanceof Uint8Array) return data.byteLength;
  return undefined;
}

async function* chunksOf(data: UploadData): AsyncGenerator<Uint8Array> {
  if (data instanceof Uint8Array) return yield data;
  if (data instanceof ArrayBuffer) return yield new Uint8Array(data);
  if (typeof Blob !== 'undefined' && data instanceof Blob) return yield* chunksOf(data.stream());
  if (typeof (data as ReadableStream).getReader === 'function') {
    const reader = (data as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  for await (const chunk of data as AsyncIterable<Uint8Array | string>) yield typeof chunk === 'string' ? utf8(chunk) : chunk;
}

function quoted(value: string): string {
  return value.replace(/["\r\n\\]/g, (c) => encodeURIComponent(c));
}

/**
 * A multipart/form-data body streamed part by part: text fields first, then the file's
 * bytes as they come (never the whole file in memory), with progress as the connection
 * pulls them.
 */
export function multipartBody(
  fields: Array<{ name: string; value: string; contentType?: string }>,
  file: MultipartFile,
  onProgress?: (p: UploadProgress) => void,
): { body: ReadableStream<Uint8Array>; contentType: string; size?: number } {
  const boundary = `----pixmill-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const head =
    fields
      .map((f) => `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(f.name)}"\r\n${f.contentType ? `Content-Type: ${f.contentType}\r\n` : ''}\r\n${f.value}\r\n`)
      .join('') +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quoted(file.filename)}"\r\nContent-Type: ${file.contentType ?? 'application/octet-stream'}\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const total = file.size ?? sizeOf(file.data);
  const chunks = (async function* () {
    yield utf8(head);
    let loaded = 0;
    onProgress?.({ loaded, total });
    for await (const chunk of chunksOf(file.data)) {
      yield chunk;
      loaded += chunk.byteLength;
      onProgress?.({ loaded, total });
    }
    yield utf8(tail);
  })();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await chunks.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
  return { body, contentType: `multipart/form-data; boundary=${boundary}`, size: total === undefined ? undefined : utf8(head).byteLength + total + utf8(tail).byteLength };
}
