import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainException, NotFoundException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { assertSafeKey, LocalUrlSigner, localFilesSecret, ObjectNotFoundError, StorageDriver } from '@pixmill/storage';
import { ApiProblems } from '../common/api-problems.decorator';
import { Public } from '../common/public.decorator';

class ForbiddenSignatureException extends DomainException {
  constructor() {
    super('invalid_signature', 'The URL signature is invalid or has expired.');
  }
}

/** Images need none of a page's powers: no scripts, no requests, a sandboxed document. */
const FILE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/**
 * Stands in for the CDN when STORAGE_DRIVER=local: serves objects behind
 * HMAC-signed, expiring URLs with Cache-Control and ETag. With S3 or a CDN
 * configured this route answers 404; the API streams no image bytes then.
 * HEAD is answered by Fastify from this GET handler, without the body.
 */
@ApiTags('delivery')
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
  @ApiOperation({
    summary: 'Serve a stored object by signed URL (local storage only)',
    description:
      'The delivery route of the embedded default (STORAGE_DRIVER=local): URLs come from image responses and `/original` redirects, signed with HMAC-SHA256 and expiring. Answers with Cache-Control and ETag (304 on If-None-Match). With S3 or a CDN configured, delivery bypasses the API and this route answers 404.',
  })
  @ApiParam({ name: 'path', description: 'The object key, e.g. users/{userId}/images/{imageId}/original' })
  @ApiQuery({ name: 'expires', description: 'Unix time the URL expires' })
  @ApiQuery({ name: 'sig', description: 'Hex HMAC-SHA256 signature' })
  @ApiProduces('image/*')
  @ApiResponse({ status: 200, description: 'The object bytes.', content: { 'image/*': { schema: { type: 'string', format: 'binary' } } } })
  @ApiResponse({ status: 304, description: 'Not modified (If-None-Match).' })
  @ApiProblems(['invalid_signature', 'bad or expired signature'], 'not_found')
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
      .header('x-content-type-options', 'nosniff')
      // Served from the API's own origin: an uploaded SVG (ALLOW_SVG) opened directly must not run scripts here.
      .header('content-security-policy', FILE_CSP);
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
