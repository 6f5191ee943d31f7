import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { FileTooLargeException, NotFoundException, ValidationFailedException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { ImageEntity, UploadRepository, UserRepository } from '@pixmill/db';
import { originalKey, StorageDriver } from '@pixmill/storage';
import { TransformationSpec } from '@pixmill/imaging';
import { EagerSubmission, TransformationsService } from '../transformations/transformations.service';
import { WebhookUrlPolicy } from '../webhooks/webhook-url.policy';
import { CreateUploadDto, DirectUploadDto } from './dto/direct-upload.dto';
import { sanitizeFilename } from './filename.util';
import { ImageIntakeService } from './image-intake.service';

const UPLOAD_TTL_SECONDS = 15 * 60;

/**
 * Presigned direct-to-storage uploads: the client sends the bytes to S3 under a
 * size-limited policy, then calls complete, which validates the object exactly
 * like a multipart upload and deletes it when it fails.
 */
@Injectable()
export class DirectUploadService {
  constructor(
    private readonly config: AppConfig,
    private readonly storage: StorageDriver,
    private readonly uploads: UploadRepository,
    private readonly users: UserRepository,
    private readonly intake: ImageIntakeService,
    private readonly transformations: TransformationsService,
    private readonly webhookUrls: WebhookUrlPolicy,
  ) {}

  async create(userId: string, req: CreateUploadDto): Promise<DirectUploadDto> {
    const max = this.config.limits.maxUploadBytes;
    if (req.bytes > max) throw new FileTooLargeException(max);
    // The options are checked now, so a bad one costs the client no upload.
    const eager = req.eager === undefined ? [] : await this.transformations.parseEagerList(userId, req.eager);
    const webhookUrl = req.webhookUrl === undefined ? null : await this.webhookUrls.check(req.webhookUrl, 'webhookUrl');
    const imageId = randomUUID();
    const key = originalKey(userId, imageId);
    // Presign first (the local driver refuses here), then reserve quota for the declared size.
    const presigned = await this.storage.presignUpload(key, {
      contentType: req.contentType,
      maxBytes: req.bytes,
      expiresInSeconds: UPLOAD_TTL_SECONDS,
    });
    await this.intake.reserve(userId, req.bytes);
    try {
      const upload = await this.uploads.insert({
        userId,
        imageId,
        storageKey: key,
        filename: sanitizeFilename(req.filename),
        contentType: req.contentType,
        reservedBytes: req.bytes,
        expiresAt: presigned.expiresAt,
        webhookUrl,
        eager: eager as unknown as Array<Record<string, unknown>>,
      });
      return {
        uploadId: upload.id,
        method: presigned.method,
        url: presigned.url,
        fields: presigned.fields,
        headers: presigned.headers,
        expiresAt: presigned.expiresAt.toISOString(),
      };
    } catch (err) {
      await this.users.releaseStorage(userId, req.bytes);
      throw err;
    }
  }

  /** The image, and the outcome of each eager spec the upload asked for. */
  async complete(userId: string, uploadId: string, requestId?: string): Promise<{ image: ImageEntity; eagerJobs: EagerSubmission[] | null }> {
    const upload = await this.uploads.findOwned(userId, uploadId);
    if (!upload || upload.status !== 'pending') throw new NotFoundException('Upload');
    const head = await this.storage.head(upload.storageKey);
    if (!head) {
      throw new ValidationFailedException([{ field: 'uploadId', message: 'nothing has been uploaded for this upload yet' }]);
    }
    // One completion wins; a concurrent second call sees the upload finished.
    if (!(await this.uploads.finish(upload.id, 'completed'))) throw new NotFoundException('Upload');
    let image: ImageEntity;
    try {
      image = await this.intake.ingestStored(
        { userId, filename: upload.filename, requestId, webhookUrl: upload.webhookUrl },
        upload.imageId,
        upload.storageKey,
        upload.reservedBytes,
      );
    } catch (err) {
      await this.uploads.markFailed(upload.id);
      throw err;
    }
    if (!upload.eager.length) return { image, eagerJobs: null };
    // Stored as parseSpec returned them when the upload started: plain JSON data.
    const specs = upload.eager as unknown as TransformationSpec[];
    const eagerJobs = await this.transformations.submitEager(userId, image.id, specs, { requestId, webhookUrl: upload.webhookUrl });
    return { image, eagerJobs };
  }
}
