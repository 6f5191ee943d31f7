import { HttpClient, HttpResponse } from './http.client';
import { uploadForm } from './image-fixtures';
import { pollUntil } from './storage-inspector';
import type { WorkerProcess } from './worker-process.harness';

/** `POST /v1/images` with one file part, as a browser form sends it. */
export function postImage(client: HttpClient, bytes: Buffer, filename?: string, contentType?: string): Promise<HttpResponse> {
  return client.request('POST', '/v1/images', { body: uploadForm(bytes, filename, { contentType }) });
}

/** Polls an image until the worker has rendered its thumbnail; fails with the worker's log otherwise. */
export async function waitForThumbnail(client: HttpClient, id: string, worker?: WorkerProcess): Promise<string> {
  const res = await pollUntil(() => client.get(`/v1/images/${id}`), (r) => r.status !== 200 || !!r.body.urls?.thumbnail);
  if (!res.body?.urls?.thumbnail) {
    const log = worker ? `\nworker log (tail):\n${worker.output().slice(-3000)}` : '';
    throw new Error(`no thumbnail for ${id} after 15 s: ${res.status} ${res.text}${log}`);
  }
  return res.body.urls.thumbnail;
}
