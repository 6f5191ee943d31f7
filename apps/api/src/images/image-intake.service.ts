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
import { JobName, JobQueue, jobIds } from '@pixmill/queue';
import { originalKey, StorageDriver } from '@pixmill/storage';
import { UploadInspector } from './upload-inspector.stream';

export interface IntakeRequest {
  userId: string;
  filename: string;
  requestId?: string;
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

  /** A multipart file stream: stored as it arrives. `reserved` bytes were reserved by the caller. */
  async ingestStream(req: IntakeRequest, source: Readable, reserved: number): Promise<ImageEntity> {
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
      return await this.accept(req, imageId, key, spool, inspector, reserved);
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
   * validated exactly like a multipart upload; deleted if it fails.
   */
  async ingestStored(req: IntakeRequest, imageId: string, key: string, reserved: number): Promise<ImageEntity> {
    const spool = this.spoolPath();
    const inspector = new UploadInspector(this.config.limits.maxUploadBytes, spool, this.config.limits.allowSvg);
    try {
      const sink = new Writable({ write: (_c, _e, done) => done() });
      await pipeline(await this.storage.getStream(key), inspector, sink);
      await inspector.spooled();
      return await this.accept(req, imageId, key, spool, inspector, reserved);
    } catch (err) {
      await this.deleteQuietly(key);
      await this.users.releaseStorage(req.userId, reserved);
      throw err;
    } finally {
      await rm(spool, { force: true });
    }
  }

  private async accept(
    req: IntakeRequest,
    imageId: string,
    key: string,
    spool: string,
    inspector: UploadInspector,
    reserved: number,
  ): Promise<ImageEntity> {
    // Validation and the row come first; only a fully accepted image keeps storage accounted.
    const limits = this.config.limits;
    const probe = await this.imaging.probe(spool, {
      maxInputPixels: limits.maxInputPixels,
      maxAnimationFrames: limits.maxAnimationFrames,
      allowSvg: limits.allowSvg,
    });
    await this.imaging.verifyDecodes(spool, { maxInputPixels: limits.maxInputPixels, animated: probe.pages > 1 });
    const image = await this.images.insert({
      id: imageId,
      userId: req.userId,
      filename: req.filename,
      format: probe.format,
      mimeType: probe.mimeType,
      width: probe.width,
      height: probe.height,
      pages: probe.pages,
      bytes: inspector.bytes,
      sha256: inspector.sha256,
      exif: (probe.exif as Record<string, unknown> | null) ?? null,
      gps: probe.gps,
      storageKey: key,
    });
    try {
      await this.jobs.add(
        { name: JobName.Thumbnail, data: { imageId, requestId: req.requestId } },
        { jobId: jobIds.thumbnail(imageId) },
      );
    } catch (err) {
      // Without the queue the image would never get its thumbnail: undo and say so.
      this.logger.warn(`enqueue of thumbnail for ${imageId} failed: ${(err as Error).message}`);
      await this.images.deleteOwned(req.userId, imageId);
      throw new UnavailableException('The job queue is unavailable; the upload was not kept.');
    }
    // The reservation covered the worst case; keep exactly what the image uses.
    await this.users.releaseStorage(req.userId, reserved - inspector.bytes);
    return image;
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
