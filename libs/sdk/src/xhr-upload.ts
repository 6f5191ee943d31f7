import type { UploadProgress } from './multipart.body';

/** The part of XMLHttpRequest used here (declared, since the SDK compiles for Node without the DOM library too). */
interface Xhr {
  readonly status: number;
  readonly statusText: string;
  readonly responseText: string;
  readonly upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  getAllResponseHeaders(): string;
  send(body: FormData): void;
  abort(): void;
}
const XhrClass = (): (new () => Xhr) | undefined => (globalThis as { XMLHttpRequest?: new () => Xhr }).XMLHttpRequest;

/** Whether this runtime has XMLHttpRequest, the one browser API that reports upload progress. */
export function hasXmlHttpRequest(): boolean {
  return typeof XhrClass() === 'function';
}

/**
 * Sends `form` with XMLHttpRequest and answers a fetch `Response`: browsers report the progress of
 * a request body only through `xhr.upload.onprogress` (fetch has none, and streams a body over
 * HTTP/2 only). `request` gives the method, URL, headers (the access token) and signal; the body
 * is `form`, since a Request's own body cannot be handed to XHR. Progress counts the file's bytes,
 * scaled from the bytes of the whole multipart body.
 */
export function xhrSend(request: Request, form: FormData, fileSize: number, onProgress?: (p: UploadProgress) => void): Promise<Response> {
  return new Promise((resolve, reject) => {
    const xhr = new (XhrClass()!)();
    const signal = request.signal;
    const aborted = (): void => xhr.abort();
    if (signal.aborted) return reject(new DOMException('The upload was aborted', 'AbortError'));
    signal.addEventListener('abort', aborted, { once: true });
    xhr.open(request.method, request.url);
    request.headers.forEach((value, name) => name !== 'content-type' && xhr.setRequestHeader(name, value));
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress?.({ loaded: Math.min(fileSize, Math.round((e.loaded / e.total) * fileSize)), total: fileSize });
    xhr.onload = () => {
      signal.removeEventListener('abort', aborted);
      const headers = new Headers();
      for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
        const i = line.indexOf(':');
        if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
      }
      const empty = xhr.status === 204 || xhr.status === 205 || xhr.status === 304;
      resolve(new Response(empty ? null : xhr.responseText, { status: xhr.status, statusText: xhr.statusText, headers }));
    };
    xhr.onerror = () => {
      signal.removeEventListener('abort', aborted);
      reject(new TypeError('the upload was interrupted'));
    };
    xhr.onabort = () => reject(new DOMException('The upload was aborted', 'AbortError'));
    xhr.send(form);
  });
}
