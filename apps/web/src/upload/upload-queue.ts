import { PixmillError, type Image } from '@pixmill/sdk';
import type { UploadHandle } from '../api/session';

export type UploadState = 'waiting' | 'uploading' | 'done' | 'failed' | 'canceled';
export interface UploadItem {
  id: number;
  file: File;
  state: UploadState;
  progress: number;
  error: string | null;
  image: Image | null;
}
export type Uploader = (file: File, onProgress: (fraction: number) => void) => UploadHandle;

/** What a person reads for a refused upload, from the problem's stable code. */
export function uploadErrorMessage(err: unknown): string {
  if (!(err instanceof PixmillError)) return 'The upload failed';
  switch (err.code) {
    case 'file_too_large':
      return 'Too large: ' + (err.details.problem?.detail ?? 'over the upload limit');
    case 'unsupported_media_type':
      return 'Unsupported type: JPEG, PNG, GIF, WebP, AVIF, HEIC or TIFF only';
    case 'storage_quota_exceeded':
      return 'Storage quota exceeded: delete images or change plan';
    case 'image_too_large':
      return 'Too many pixels or frames';
    case 'image_corrupt':
      return 'The file does not decode as an image';
    case 'rate_limited':
      return 'Too many requests: try again in a minute';
    default:
      return err.message;
  }
}

/** Files waiting, uploading (a few at once) and finished, with per-file progress and cancel. */
export class UploadQueue {
  private items: UploadItem[] = [];
  private handles = new Map<number, UploadHandle>();
  private listeners = new Set<() => void>();
  private nextId = 1;

  constructor(
    private readonly uploader: Uploader,
    private readonly concurrency = 3,
    private readonly onUploaded: (image: Image) => void = () => undefined,
  ) {}

  snapshot = (): UploadItem[] => this.items;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  add(files: Iterable<File>): void {
    for (const file of files) this.items = [...this.items, { id: this.nextId++, file, state: 'waiting', progress: 0, error: null, image: null }];
    this.pump();
  }

  cancel(id: number): void {
    const item = this.items.find((i) => i.id === id);
    if (!item || (item.state !== 'waiting' && item.state !== 'uploading')) return;
    this.handles.get(id)?.abort();
    this.update(id, { state: 'canceled' });
    this.pump();
  }

  /** Forgets finished, failed and canceled files. */
  clearFinished(): void {
    this.items = this.items.filter((i) => i.state === 'waiting' || i.state === 'uploading');
    this.emit();
  }

  private update(id: number, patch: Partial<UploadItem>): void {
    this.items = this.items.map((i) => (i.id === id ? { ...i, ...patch } : i));
    this.emit();
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }

  private pump(): void {
    let running = this.items.filter((i) => i.state === 'uploading').length;
    for (const item of this.items) {
      if (running >= this.concurrency) break;
      if (item.state !== 'waiting') continue;
      running++;
      this.start(item);
    }
  }

  private start(item: UploadItem): void {
    this.update(item.id, { state: 'uploading' });
    const handle = this.uploader(item.file, (progress) => {
      if (this.items.find((i) => i.id === item.id)?.state === 'uploading') this.update(item.id, { progress });
    });
    this.handles.set(item.id, handle);
    handle.promise.then(
      (image) => {
        if (this.items.find((i) => i.id === item.id)?.state !== 'uploading') return;
        this.update(item.id, { state: 'done', progress: 1, image });
        this.onUploaded(image);
      },
      (err) => {
        if (this.items.find((i) => i.id === item.id)?.state !== 'uploading') return;
        this.update(item.id, { state: 'failed', error: uploadErrorMessage(err) });
      },
    ).finally(() => {
      this.handles.delete(item.id);
      this.pump();
    });
  }
}
