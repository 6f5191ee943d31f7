import { Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { DomainException, FieldError, ValidationFailedException } from '@pixmill/common';
import { DerivativeEntity, DerivativeRepository, ImageEntity, ImageRepository, NewJob } from '@pixmill/db';
import { canonicalSpec, checkSpecFits, InputFormat, parseQuerySpec, parseSpec, specHash, TransformationSpec } from '@pixmill/imaging';
import { AppConfig } from '@pixmill/config';
import { JobLifecycle, Submission } from '@pixmill/jobs';
import { ImagesService } from '../images/images.service';
import { WebhookUrlPolicy } from '../webhooks/webhook-url.policy';
import { PresetsService } from '../presets/presets.service';
import { MAX_EAGER } from './transformation.limits';

/** One eager spec's outcome: its job, or why it was not queued. */
export interface EagerSubmission {
  jobId: string | null;
  error: { code: string; message: string } | null;
}

export type { Submission };

/**
 * Accepts transformation requests: validates them against the caller's image and hands
 * the job to JobLifecycle, which writes the row first (the truth), then enqueues it.
 * One image and one spec hash make at most one render: a partial unique index lets only
 * one queued/active job exist, and an existing derivative is a cache hit.
 */
@Injectable()
export class TransformationsService {
  constructor(
    private readonly images: ImagesService,
    private readonly imageRows: ImageRepository,
    private readonly derivatives: DerivativeRepository,
    private readonly lifecycle: JobLifecycle,
    private readonly webhookUrls: WebhookUrlPolicy,
    private readonly config: AppConfig,
    private readonly presets: PresetsService,
  ) {}

  /** Validates a JSON body: a spec, maybe naming one of the user's presets, plus an optional webhookUrl (SSRF-checked). */
  async parseBody(body: unknown, userId: string): Promise<{ spec: TransformationSpec; webhookUrl?: string }> {
    let rest = body;
    let webhookUrl: string | undefined;
    if (rest && typeof rest === 'object' && 'webhookUrl' in rest) {
      const { webhookUrl: raw, ...others } = rest as Record<string, unknown>;
      rest = others;
      webhookUrl = await this.webhookUrls.check(raw, 'webhookUrl');
    }
    const spec = await this.jsonSpec(userId, rest);
    return webhookUrl === undefined ? { spec } : { spec, webhookUrl };
  }

  /**
   * A JSON spec (SPEC §4) that may name one of the user's presets with `"preset"`: the
   * preset's operations first, then the spec's own; its output settings unless the spec
   * sets them. The body of POST …/transformations and each eager spec of an upload.
   */
  async jsonSpec(userId: string, body: unknown): Promise<TransformationSpec> {
    if (!(body && typeof body === 'object' && !Array.isArray(body) && 'preset' in body)) return parseSpec(body);
    const { preset, ...rest } = body as Record<string, unknown>;
    const own = parseSpec(rest);
    return PresetsService.merge(await this.presets.spec(userId, preset, 'preset'), own);
  }

  /** Validates an on-the-fly query (SPEC §4 query syntax, `preset=` too) plus an optional webhookUrl (SSRF-checked). */
  async parseQuery(params: URLSearchParams, userId: string): Promise<{ spec: TransformationSpec; webhookUrl?: string }> {
    const spec = await this.querySpec([...params.entries()], userId);
    const raw = params.get('webhookUrl');
    return raw === null ? { spec } : { spec, webhookUrl: await this.webhookUrls.check(raw, 'webhookUrl') };
  }

  /** The spec of query entries; a `preset=` among them runs first (one preset per request). */
  async querySpec(entries: Array<[string, string]>, userId: string): Promise<TransformationSpec> {
    const presets = entries.filter(([k]) => k === 'preset');
    if (presets.length > 1) throw new ValidationFailedException([{ field: 'preset', message: 'name one preset at most' }]);
    const own = parseQuerySpec(entries.filter(([k]) => k !== 'preset'));
    return presets.length ? PresetsService.merge(await this.presets.spec(userId, presets[0][1], 'preset'), own) : own;
  }

  /** `querySpec` of entries naming one preset whose spec the caller has read already (the public route batches that read). */
  static querySpecWithPreset(entries: Array<[string, string]>, preset: Record<string, unknown>): TransformationSpec {
    return PresetsService.merge(parseSpec(preset), parseQuerySpec(entries.filter(([k]) => k !== 'preset')));
  }

  /** The stored derivative of this spec, if it was rendered already (no job row is written). */
  async existingDerivative(userId: string, imageId: string, spec: TransformationSpec): Promise<DerivativeEntity | null> {
    const image = await this.images.getFacts(userId, imageId);
    return this.derivatives.find(image.id, specHash(spec, image.format as InputFormat));
  }

  async submit(
    userId: string,
    imageId: string,
    spec: TransformationSpec,
    opts: { idempotencyKey?: string; requestId?: string; webhookUrl?: string | null } = {},
  ): Promise<Submission> {
    const image = await this.images.getFacts(userId, imageId);
    await this.checkWatermarkSources(userId, spec);
    const format = image.format as InputFormat;
    // A spec that cannot fit this image is refused now, not left to become a failed job (and cost a quota unit).
    checkSpecFits(spec, { format, width: image.width, height: image.height, pages: image.pages }, this.config.limits);
    const hash = specHash(spec, format);
    const newJob: NewJob = {
      id: randomUUID(),
      userId,
      imageId: image.id,
      specHash: hash,
      spec: canonicalSpec(spec, format) as unknown as Record<string, unknown>,
      idempotencyKey: opts.idempotencyKey ?? null,
      requestHash: opts.idempotencyKey ? createHash('sha256').update(`${image.id}:${hash}`).digest('hex') : null,
      requestId: opts.requestId ?? null,
      webhookUrl: opts.webhookUrl ?? null,
    };

    return this.lifecycle.submit(newJob);
  }

  /**
   * The `eager` field of a multipart upload, as text: a JSON array of specs, each
   * validated (watermark sources included) before the upload is accepted.
   */
  async parseEager(userId: string, raw: string): Promise<TransformationSpec[]> {
    let list: unknown;
    try {
      list = JSON.parse(raw);
    } catch {
      throw new ValidationFailedException([{ field: 'eager', message: 'eager must be a JSON array of transformation specs' }]);
    }
    return this.parseEagerList(userId, list);
  }

  /**
   * Eager specs, each validated (watermark sources must be the user's) and each naming a
   * preset or not, as the JSON spec does; every error is listed. A preset is resolved here,
   * so a direct upload renders what its presets said when the upload was created.
   */
  async parseEagerList(userId: string, list: unknown): Promise<TransformationSpec[]> {
    if (!Array.isArray(list) || list.length > MAX_EAGER) {
      throw new ValidationFailedException([{ field: 'eager', message: `eager must be a JSON array of at most ${MAX_EAGER} specs` }]);
    }
    const specs: TransformationSpec[] = [];
    const errors: FieldError[] = [];
    for (const [i, item] of list.entries()) {
      try {
        const spec = await this.jsonSpec(userId, item);
        await this.checkWatermarkSources(userId, spec);
        specs.push(spec);
      } catch (err) {
        if (!(err instanceof ValidationFailedException)) throw err;
        errors.push(...(err.errors ?? []).map((e) => ({ field: `eager[${i}].${e.field}`, message: e.message })));
      }
    }
    if (errors.length) throw new ValidationFailedException(errors);
    return specs;
  }

  /**
   * Queues an upload's eager renders once its image exists. The image is kept
   * whatever happens to them: a refused render (the daily quota, a watermark
   * source deleted meanwhile) is reported in its place in the list.
   */
  async submitEager(
    userId: string,
    imageId: string,
    specs: TransformationSpec[],
    opts: { requestId?: string; webhookUrl?: string | null },
  ): Promise<EagerSubmission[]> {
    const results: EagerSubmission[] = [];
    for (const spec of specs) {
      try {
        const { job } = await this.submit(userId, imageId, spec, opts);
        results.push({ jobId: job.id, error: null });
      } catch (err) {
        if (!(err instanceof DomainException)) throw err;
        results.push({ jobId: null, error: { code: err.code, message: err.message } });
      }
    }
    return results;
  }

  private async checkWatermarkSources(userId: string, spec: TransformationSpec): Promise<void> {
    const errors: FieldError[] = [];
    for (const [i, op] of spec.operations.entries()) {
      if (op.op === 'watermark' && op.imageId) {
        const source: ImageEntity | null = await this.imageRows.findOwned(userId, op.imageId);
        if (!source) errors.push({ field: `operations[${i}].imageId`, message: 'no image of yours has this id' });
      }
    }
    if (errors.length) throw new ValidationFailedException(errors);
  }
}
