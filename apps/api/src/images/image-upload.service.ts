import { Injectable } from '@nestjs/common';
import type { Multipart } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { FileTooLargeException, ValidationFailedException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { ImageEntity } from '@pixmill/db';
import { sanitizeFilename } from './filename.util';
import { TransformationSpec } from '@pixmill/imaging';
import { TransformationsService } from '../transformations/transformations.service';
import { WebhookUrlPolicy } from '../webhooks/webhook-url.policy';
import { ImageIntakeService, StagedImage } from './image-intake.service';

/** Reads a multipart upload: form fields, then exactly one `file` part, streamed. */
@Injectable()
export class ImageUploadService {
  constructor(
    private readonly config: AppConfig,
    private readonly intake: ImageIntakeService,
    private readonly transformations: TransformationsService,
    private readonly webhookUrls: WebhookUrlPolicy,
  ) {}

  async fromMultipart(
    userId: string,
    req: FastifyRequest,
  ): Promise<{ image: ImageEntity; eager: TransformationSpec[]; webhookUrl: string | null }> {
    if (!req.isMultipart()) {
      throw new ValidationFailedException([{ field: 'file', message: 'send the image as multipart/form-data in a field named "file"' }]);
    }
    const max = this.config.limits.maxUploadBytes;
    const declared = Number(req.headers['content-length']);
    // A body larger than the limit plus room for the multipart envelope cannot hold an acceptable file.
    if (Number.isFinite(declared) && declared > max + 64 * 1024) throw new FileTooLargeException(max);

    let staged: StagedImage | undefined;
    let eager: TransformationSpec[] = [];
    let webhookUrl: string | null = null;
    try {
      for await (const part of req.parts()) {
        if (part.type === 'field' && part.fieldname === 'eager') {
          eager = await this.transformations.parseEager(userId, String(part.value));
          continue;
        }
        if (part.type === 'field' && part.fieldname === 'webhookUrl') {
          webhookUrl = await this.webhookUrls.check(String(part.value), 'webhookUrl');
          continue;
        }
        staged = await this.readPart(userId, req, part, staged, declared);
      }
    } catch (err) {
      // The request as a whole is refused: a file already stored from it goes too.
      if (staged) await this.intake.discard(staged);
      throw err;
    }
    if (!staged) throw new ValidationFailedException([{ field: 'file', message: 'file is required' }]);
    staged.image.webhookUrl = webhookUrl;
    return { image: await this.intake.commit(staged), eager, webhookUrl };
  }

  private async readPart(
    userId: string,
    req: FastifyRequest,
    part: Multipart,
    staged: StagedImage | undefined,
    declared: number,
  ): Promise<StagedImage> {
    const max = this.config.limits.maxUploadBytes;
    if (part.type === 'file') {
      if (part.fieldname !== 'file' || staged) {
        part.file.resume();
        throw new ValidationFailedException([{ field: part.fieldname, message: 'exactly one file, in the field "file"' }]);
      }
      // Reserve the worst case for this upload now; the intake keeps only what the image uses.
      const reserve = Number.isFinite(declared) && declared > 0 ? Math.min(declared, max) : max;
      try {
        await this.intake.reserve(userId, reserve);
      } catch (err) {
        part.file.resume();
        throw err;
      }
      return this.intake.stageStream(
        { userId, filename: sanitizeFilename(part.filename), requestId: String(req.id) },
        part.file,
        reserve,
      );
    } else {
      throw new ValidationFailedException([{ field: part.fieldname, message: `${part.fieldname} is not an allowed field` }]);
    }
  }
}
