import { Injectable } from '@nestjs/common';
import { DomainException, RateLimitedException, UnavailableException, ValidationFailedException, isErrorCode } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { CachedRead, DerivativeEntity, DerivativeRepository, ImageRepository, PresetRepository, PresetRow, ReadCache } from '@pixmill/db';
import { InputFormat, parseSpec, specHash, TransformationSpec } from '@pixmill/imaging';
import { DeliveryUrlService } from '@pixmill/storage';
import { ImageFacts } from '../images/image-facts.memo';
import { ImagesService } from '../images/images.service';
import { JobsService } from '../jobs/jobs.service';
import { RateLimiterUnavailableError, SlidingWindowRateLimiter } from '../rate-limit/sliding-window-rate-limiter.service';
import { PRESET_NAME } from '../presets/presets.service';
import { TransformationsService } from '../transformations/transformations.service';
import { applyDpr, autoFormat, PublicOptions, readPublicOptions } from './public-options.util';
import { UrlKey, UrlKeysService } from './url-keys.service';
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
    private readonly imageFacts: ImagesService,
    private readonly cache: ReadCache,
  ) {}

  /**
   * `rawTarget` is the request target exactly as sent (path and query).
   *
   * A cache hit makes one Redis round trip: the image's immutable facts (owner, format,
   * size, alpha) and the owner's decrypted keys are kept in process, so the signature is
   * checked and the spec hashed before anything is read; then one MGET fetches the image
   * row (it still exists), the account's public URL setting and the derivative
   * (ReadCache.readAll). A URL naming a preset reads the preset with the first two and
   * the derivative after it (its hash needs the preset's spec).
   */
  async resolve(imageId: string, rawTarget: string, accept: string | undefined, requestId: string): Promise<PublicAnswer> {
    const { target, facts } = await this.verify(imageId, rawTarget);
    const options = readPublicOptions(new URLSearchParams(target.split('?')[1] ?? ''));
    const now = Math.floor(Date.now() / 1000);
    if (options.exp !== null && options.exp <= now) throw new DomainException('url_expired', 'This URL has expired.', undefined, NO_STORE);

    const owner = facts.userId;
    const presetEntries = options.specEntries.filter(([k]) => k === 'preset');
    const presetName = presetEntries.length === 1 && PRESET_NAME.test(presetEntries[0][1]) ? presetEntries[0][1] : null;
    const format = facts.format as InputFormat;
    // The URL's own spec, when it names no preset: known before any read. A bad one is
    // answered after the account setting, which may refuse the URL first (presets_only).
    let own: { spec: TransformationSpec; hash: string } | { error: unknown } | null = null;
    if (presetName === null) {
      try {
        const spec = this.finalSpec(await this.transformations.querySpec(options.specEntries, owner), options, accept, facts);
        own = { spec, hash: specHash(spec, format) };
      } catch (err) {
        own = { error: err };
      }
    }

    const [image, settings, derivativeOrPreset] = await this.cache.readAll([
      this.images.cachedRead(facts.id),
      this.presets.publicSettingsRead(owner),
      own && 'hash' in own ? this.derivatives.cachedRead(facts.id, own.hash) : presetName !== null ? this.presets.cachedRead(owner, presetName) : NOTHING,
    ] as const);
    if (!image) throw signatureInvalid(); // deleted since its facts were remembered
    if (settings?.publicUrls === 'presets-only' && !(options.specEntries.length === 1 && options.specEntries[0][0] === 'preset')) {
      throw new DomainException('presets_only', 'This account’s public URLs name a preset (plus format=auto and dpr) and nothing else.', undefined, NO_STORE);
    }

    let spec: TransformationSpec;
    let existing: DerivativeEntity | null;
    if (own && 'hash' in own) {
      spec = own.spec;
      existing = derivativeOrPreset as DerivativeEntity | null;
    } else if (own) {
      throw own.error;
    } else {
      const preset = derivativeOrPreset as PresetRow | null;
      if (!preset) throw new ValidationFailedException([{ field: 'preset', message: `you have no preset named ${presetName}` }]);
      spec = this.finalSpec(TransformationsService.querySpecWithPreset(options.specEntries, preset.spec), options, accept, facts);
      existing = await this.derivatives.findCached(facts.id, specHash(spec, format));
    }

    const maxAgeSeconds = Math.max(
      0,
      Math.min(this.config.storage.deliveryUrlTtlSeconds, options.exp === null ? Number.MAX_SAFE_INTEGER : options.exp - now),
    );
    const answer = (location: string): PublicAnswer => ({ location, maxAgeSeconds, varyAccept: options.autoFormat });
    if (existing) return answer(await this.delivery.urlFor(existing.storageKey));

    await this.chargeRate(owner);
    const { job } = await this.transformations.submit(owner, facts.id, spec, { requestId });
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

  /** The spec as rendered: `format=auto` resolved from Accept and the image's alpha, sizes times `dpr`. */
  private finalSpec(spec: TransformationSpec, options: PublicOptions, accept: string | undefined, facts: ImageFacts): TransformationSpec {
    let out = spec;
    if (options.autoFormat) out = { ...out, output: { ...out.output, format: autoFormat(accept, facts.format as InputFormat, facts.hasAlpha) } };
    if (options.dpr !== 1) out = parseSpec(applyDpr(out, options.dpr, facts));
    return out;
  }

  /**
   * The image's facts and the signed part of the target, once the signature is known good:
   * the owner's keys come from the image, so an unknown image answers as a bad signature
   * does (nothing tells them apart). Keys come from the in-process memo; a signature they
   * do not match is checked against the stored keys before it is refused (a key rotated in
   * through another API process).
   */
  private async verify(imageId: string, rawTarget: string): Promise<{ target: string; facts: ImageFacts }> {
    const signed = splitSignedTarget(rawTarget);
    if (!signed) throw signatureInvalid();
    const facts = await this.imageFacts.publicFacts(imageId);
    if (!facts) throw signatureInvalid();
    const matches = (keys: UrlKey[]) => verifyTarget(keys.map((k) => k.key), signed.target, signed.signature);
    const { keys, remembered } = await this.keys.signingKeys(facts.userId);
    if (!matches(keys) && !(remembered && matches((await this.keys.signingKeys(facts.userId, { fresh: true })).keys))) throw signatureInvalid();
    return { target: signed.target, facts };
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


/** The third read of a URL whose own spec is refused: nothing to fetch. */
const NOTHING: CachedRead<object> = { kind: 'preset', id: '', load: async () => null, revive: (r) => r };

function signatureInvalid(): DomainException {
  return new DomainException('signature_invalid', 'The URL’s signature is missing or does not match.', undefined, NO_STORE);
}
