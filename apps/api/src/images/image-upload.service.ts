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

/** As much as a text field may hold (`fieldSize` of the multipart limits in api.factory). */
const MAX_EAGER_PART_BYTES = 256 * 1024;

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
        if (part.fieldname === 'eager') {
          eager = await this.readEager(userId, part);
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
      if ((err as { code?: string })?.code === 'FST_INVALID_JSON_FIELD_ERROR') {
        // @fastify/multipart parses a field sent as application/json itself, and would answer 406.
        throw new ValidationFailedException([{ field: 'body', message: 'a form field sent as application/json is not valid JSON' }]);
      }
      throw err;
    }
    if (!staged) throw new ValidationFailedException([{ field: 'file', message: 'file is required' }]);
    staged.image.webhookUrl = webhookUrl;
    return { image: await this.intake.commit(staged), eager, webhookUrl };
  }

  /**
   * `eager` as clients send it: a text field (curl -F, a browser form), a field with
   * `Content-Type: application/json` (which @fastify/multipart has parsed already), or a
   * JSON part with a file name (a Blob, as generated clients and /docs send it).
   */
  private async readEager(userId: string, part: Multipart): Promise<TransformationSpec[]> {
    if (part.type === 'field') {
      return typeof part.value === 'string'
        ? this.transformations.parseEager(userId, part.value)
        : this.transformations.parseEagerList(userId, part.value);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of part.file as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_EAGER_PART_BYTES) {
        part.file.resume();
        throw new ValidationFailedException([{ field: 'eager', message: `eager must be at most ${MAX_EAGER_PART_BYTES} bytes` }]);
      }
      chunks.push(chunk);
    }
    return this.transformations.parseEager(userId, Buffer.concat(chunks).toString('utf8'));
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
