import { Injectable } from '@nestjs/common';
import { DomainException, RateLimitedException, UnavailableException, isErrorCode } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { DerivativeRepository, ImageEntity, ImageRepository, PresetRepository } from '@pixmill/db';
import { InputFormat, parseSpec, specHash, TransformationSpec } from '@pixmill/imaging';
import { DeliveryUrlService } from '@pixmill/storage';
import { JobsService } from '../jobs/jobs.service';
import { RateLimiterUnavailableError, SlidingWindowRateLimiter } from '../rate-limit/sliding-window-rate-limiter.service';
import { TransformationsService } from '../transformations/transformations.service';
import { applyDpr, autoFormat, readPublicOptions } from './public-options.util';
import { UrlKeysService } from './url-keys.service';
import { splitSignedTarget, verifyTarget } from './url-signature.util';

/** Where a public URL leads: the derivative's delivery URL, cacheable for `maxAgeSeconds`. */
export interface PublicAnswer {
  location: string;
  maxAgeSeconds: number;
  /** The output format came from Accept: the answer carries `Vary: Accept`. */
  varyAccept: boolean;
}

/**
 * The public `/i/{imageId}` route (SPEC §8): checks the signature before anything else,
 * then answers a stored derivative from the read cache (no job row, no quota, no rate)
 * or queues the render on the owner's account, as the authenticated on-the-fly route does.
 */
@Injectable()
export class PublicImageService {
  constructor(
    private readonly images: ImageRepository,
    private readonly derivatives: DerivativeRepository,
    private readonly keys: UrlKeysService,
    private readonly transformations: TransformationsService,
    private readonly jobs: JobsService,
    private readonly limiter: SlidingWindowRateLimiter,
    private readonly delivery: DeliveryUrlService,
    private readonly config: AppConfig,
    private readonly presets: PresetRepository,
  ) {}

  /** `rawTarget` is the request target exactly as sent (path and query). */
  async resolve(imageId: string, rawTarget: string, accept: string | undefined, requestId: string): Promise<PublicAnswer> {
    const image = await this.verify(imageId, rawTarget);
    const query = new URLSearchParams(splitSignedTarget(rawTarget)!.target.split('?')[1] ?? '');
    const options = readPublicOptions(query);
    const now = Math.floor(Date.now() / 1000);
    if (options.exp !== null && options.exp <= now) throw new DomainException('url_expired', 'This URL has expired.', undefined, NO_STORE);

    const settings = await this.presets.publicSettings(image.userId);
    if (settings?.publicUrls === 'presets-only' && !(options.specEntries.length === 1 && options.specEntries[0][0] === 'preset')) {
      throw new DomainException('presets_only', 'This account’s public URLs name a preset (plus format=auto and dpr) and nothing else.', undefined, NO_STORE);
    }

    const format = image.format as InputFormat;
    let spec: TransformationSpec = await this.transformations.querySpec(options.specEntries, image.userId);
    if (options.autoFormat) spec = { ...spec, output: { ...spec.output, format: autoFormat(accept, format, image.hasAlpha ?? null) } };
    if (options.dpr !== 1) spec = parseSpec(applyDpr(spec, options.dpr, image));

    const maxAgeSeconds = Math.max(
      0,
      Math.min(this.config.storage.deliveryUrlTtlSeconds, options.exp === null ? Number.MAX_SAFE_INTEGER : options.exp - now),
    );
    const answer = (location: string): PublicAnswer => ({ location, maxAgeSeconds, varyAccept: options.autoFormat });

    const existing = await this.derivatives.findCached(image.id, specHash(spec, format));
    if (existing) return answer(await this.delivery.urlFor(existing.storageKey));

    await this.chargeRate(image.userId);
    const { job } = await this.transformations.submit(image.userId, image.id, spec, { requestId });
    const settled = await this.jobs.waitForFinal(job, this.config.limits.publicRenderWaitSeconds);
    const dto = await this.jobs.toDto(settled);
    if (dto.result) return answer(dto.result.url);
    if (settled.status === 'failed') {
      const code = isErrorCode(settled.errorCode) ? settled.errorCode : 'internal_error';
      throw new DomainException(code, settled.errorMessage ?? 'The render failed.', undefined, NO_STORE);
    }
    if (settled.status === 'canceled') throw new DomainException('job_canceled', 'The render was canceled; request the URL again.', undefined, NO_STORE);
    throw new DomainException('rendering', 'The image is still rendering; try again shortly.', undefined, { 'Retry-After': '2', ...NO_STORE });
  }

  /**
   * The image, once the signature is known good: the owner's keys come from the image
   * row, so an unknown image answers as a bad signature does (nothing tells them apart).
   */
  private async verify(imageId: string, rawTarget: string): Promise<ImageEntity> {
    const signed = splitSignedTarget(rawTarget);
    const invalid = () => new DomainException('signature_invalid', 'The URL’s signature is missing or does not match.', undefined, NO_STORE);
    if (!signed) throw invalid();
    const image = await this.images.findAnyCached(imageId);
    if (!image) throw invalid();
    const keys = await this.keys.validKeys(image.userId);
    if (!verifyTarget(keys.map((k) => k.key), signed.target, signed.signature)) throw invalid();
    return image;
  }

  /** One new public render against the owner's PUBLIC_RENDERS_PER_MINUTE. */
  private async chargeRate(ownerId: string): Promise<void> {
    let decision;
    try {
      decision = await this.limiter.hit(`public:${ownerId}`, this.config.limits.publicRendersPerMinute);
    } catch (err) {
      if (err instanceof RateLimiterUnavailableError) throw new UnavailableException('Rate limiting is unavailable (Redis does not answer); try again shortly.');
      throw err;
    }
    if (!decision.allowed) throw new RateLimitedException(decision.resetSeconds, NO_STORE);
  }
}

/** Errors of the public route are never stored by a CDN. */
const NO_STORE = { 'Cache-Control': 'no-store' };
