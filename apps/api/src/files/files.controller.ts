import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainException, NotFoundException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { assertSafeKey, LocalUrlSigner, localFilesSecret, ObjectNotFoundError, StorageDriver } from '@pixmill/storage';
import { Public } from '../common/public.decorator';

class ForbiddenSignatureException extends DomainException {
  constructor() {
    super(403, 'invalid_signature', 'The URL signature is invalid or has expired.');
  }
}

/**
 * Stands in for the CDN when STORAGE_DRIVER=local: serves objects behind
 * HMAC-signed, expiring URLs with Cache-Control and ETag. With S3 or a CDN
 * configured this route answers 404; the API streams no image bytes then.
 * HEAD is answered by Fastify from this GET handler, without the body.
 */
@ApiExcludeController()
@Public()
@Controller('files')
export class FilesController {
  private readonly signer: LocalUrlSigner;

  constructor(
    private readonly storage: StorageDriver,
    config: AppConfig,
  ) {
    this.signer = new LocalUrlSigner(localFilesSecret(config));
  }

  @Get('*')
  async get(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Query('expires') expires?: string, @Query('sig') sig?: string) {
    if (this.storage.kind !== 'local') throw new NotFoundException('File');
    const key = decodeURIComponent(req.url.split('?')[0].replace(/^\/files\//, ''));
    try {
      assertSafeKey(key);
    } catch {
      throw new NotFoundException('File');
    }
    if (!this.signer.verify(key, expires, sig)) throw new ForbiddenSignatureException();
    const head = await this.storage.head(key);
    if (!head) throw new NotFoundException('File');
    const etag = `"${head.etag.replace(/"/g, '')}"`;
    void reply
      .header('content-type', head.contentType)
      .header('cache-control', head.cacheControl ?? 'private, max-age=3600')
      .header('etag', etag)
      .header('last-modified', head.lastModified.toUTCString())
      .header('x-content-type-options', 'nosniff');
    if (req.headers['if-none-match'] === etag) return reply.status(304).send();
    void reply.header('content-length', head.bytes);
    try {
      return reply.status(200).send(await this.storage.getStream(key));
    } catch (err) {
      if (err instanceof ObjectNotFoundError) throw new NotFoundException('File');
      throw err;
    }
  }
}
