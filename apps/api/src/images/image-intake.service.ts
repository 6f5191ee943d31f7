import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StorageQuotaExceededException, UnavailableException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { ImageEntity, ImageRepository, UserRepository } from '@pixmill/db';
import { ImagingService } from '@pixmill/imaging';
import { JobQueue } from '@pixmill/queue';
import { originalKey, StorageDriver } from '@pixmill/storage';
import { UploadInspector } from './upload-inspector.stream';

/** Bytes stored and validated, not yet an image (no row, no job). */
export interface StagedImage {
  req: IntakeRequest;
  reserved: number;
  image: Omit<ImageEntity, 'createdAt' | 'thumbnailKey'>;
}

export interface IntakeRequest {
  userId: string;
  filename: string;
  requestId?: string;
  /** Receives the image's events (image.ready, image.deleted). */
  webhookUrl?: string | null;
}

/**
 * Turns incoming bytes into an image: quota reserved first (atomically), bytes
 * streamed to storage while counted, hashed, sniffed and spooled, then the
 * header probe and a full decode check. Anything rejected leaves no object, no
 * row and no reservation behind.
 */
@Injectable()
export class ImageIntakeService {
  private readonly logger = new Logger('ImageIntake');
  private readonly spoolDir = path.join(tmpdir(), 'pixmill-spool');

  constructor(
    private readonly config: AppConfig,
    private readonly storage: StorageDriver,
    private readonly images: ImageRepository,
    private readonly users: UserRepository,
    private readonly imaging: ImagingService,
    private readonly jobs: JobQueue,
  ) {
    mkdirSync(this.spoolDir, { recursive: true });
  }

  /** Reserves storage quota for an upload of at most `bytes`; 403 when it would not fit. */
  async reserve(userId: string, bytes: number): Promise<void> {
    const user = await this.users.findById(userId);
    const quota = this.config.plans[user?.plan ?? 'free'].storageBytes;
    if (!(await this.users.reserveStorage(userId, bytes, quota))) throw new StorageQuotaExceededException();
  }

  /**
   * A multipart file stream: stored as it arrives and validated, but not yet an
   * image. The caller commits it once the whole request has been read, or
   * discards it. `reserved` bytes were reserved by the caller.
   */
  async stageStream(req: IntakeRequest, source: Readable, reserved: number): Promise<StagedImage> {
    const imageId = randomUUID();
    const key = originalKey(req.userId, imageId);
    const spool = this.spoolPath();
    const inspector = new UploadInspector(this.config.limits.maxUploadBytes, spool, this.config.limits.allowSvg);
    let stored = false;
    try {
      const flowing = pipeline(source, inspector).catch((err) => {
        inspector.destroy(err);
        throw err;
      });
      flowing.catch(() => undefined);
      const type = await inspector.sniffed;
      stored = true; // from here a partial object may exist
      await Promise.all([
        this.storage.put(key, inspector, { contentType: type.mime, maxBytes: this.config.limits.maxUploadBytes }),
        flowing,
      ]);
      await inspector.spooled();
      return await this.validate(req, imageId, key, spool, inspector, reserved);
    } catch (err) {
      source.resume(); // let the rest of the request body drain
      if (stored) await this.deleteQuietly(key);
      await this.users.releaseStorage(req.userId, reserved);
      throw err;
    } finally {
      await rm(spool, { force: true });
    }
  }

  /**
   * An object already in storage (a presigned direct upload): read back once,
   * validated exactly like a multipart upload and committed; deleted if it fails.
   */
  async ingestStored(req: IntakeRequest, imageId: string, key: string, reserved: number): Promise<ImageEntity> {
    const spool = this.spoolPath();
    const inspector = new UploadInspector(this.config.limits.maxUploadBytes, spool, this.config.limits.allowSvg);
    let staged: StagedImage;
    try {
      const sink = new Writable({ write: (_c, _e, done) => done() });
      await pipeline(await this.storage.getStream(key), inspector, sink);
      await inspector.spooled();
      staged = await this.validate(req, imageId, key, spool, inspector, reserved);
    } catch (err) {
      await this.deleteQuietly(key);
      await this.users.releaseStorage(req.userId, reserved);
      throw err;
    } finally {
      await rm(spool, { force: true });
    }
    return this.commit(staged);
  }

  /** Makes a staged upload an image: its row, its thumbnail job, and exact storage accounting. */
  async commit(staged: StagedImage): Promise<ImageEntity> {
    const { image, req, reserved } = staged;
    let inserted = false;
    try {
      const row = await this.images.insert(image);
      inserted = true;
      await this.jobs.enqueueThumbnail(image.id, req.requestId);
      // The reservation covered the worst case; keep exactly what the image uses.
      await this.users.releaseStorage(req.userId, reserved - image.bytes);
      return row;
    } catch (err) {
      this.logger.warn(`commit of image ${image.id} failed: ${(err as Error).message}`);
      if (inserted) await this.images.deleteOwned(req.userId, image.id);
      await this.discard(staged);
      throw err instanceof Error && /queue|redis|connect/i.test(err.message)
        ? new UnavailableException('The job queue is unavailable; the upload was not kept.')
        : err;
    }
  }

  /** Removes a staged upload that will not become an image. */
  async discard(staged: StagedImage): Promise<void> {
    await this.deleteQuietly(staged.image.storageKey);
    await this.users.releaseStorage(staged.req.userId, staged.reserved);
  }

  private async validate(
    req: IntakeRequest,
    imageId: string,
    key: string,
    spool: string,
    inspector: UploadInspector,
    reserved: number,
  ): Promise<StagedImage> {
    const limits = this.config.limits;
    const probe = await this.imaging.probe(spool, {
      maxInputPixels: limits.maxInputPixels,
      maxAnimationFrames: limits.maxAnimationFrames,
      allowSvg: limits.allowSvg,
    });
    await this.imaging.verifyDecodes(spool, { maxInputPixels: limits.maxInputPixels, animated: probe.pages > 1 });
    return {
      req,
      reserved,
      image: {
        id: imageId,
        userId: req.userId,
        filename: req.filename,
        format: probe.format,
        mimeType: probe.mimeType,
        width: probe.width,
        height: probe.height,
        pages: probe.pages,
        hasAlpha: probe.hasAlpha,
        bytes: inspector.bytes,
        sha256: inspector.sha256,
        exif: (probe.exif as Record<string, unknown> | null) ?? null,
        gps: probe.gps,
        storageKey: key,
        webhookUrl: req.webhookUrl ?? null,
      },
    };
  }

  private spoolPath(): string {
    return path.join(this.spoolDir, randomUUID());
  }

  private async deleteQuietly(key: string): Promise<void> {
    try {
      await this.storage.delete(key);
    } catch (err) {
      this.logger.error(`could not delete rejected upload ${key}: ${(err as Error).message}`);
    }
  }
}
