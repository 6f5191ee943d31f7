import { Injectable } from '@nestjs/common';
import { ImageProbe, ProbeLimits, VerifyDecodeOptions, probeImage, verifyDecodes } from './probe/image-probe.util';
import { computePlaceholder, ImagePlaceholder } from './render/placeholder.util';
import { RenderOptions, RenderResult, render, renderMany, renderThumbnail } from './render/render.pipeline';
import { InputFormat, TransformationSpec } from './spec/transformation-spec.types';

/**
 * Nest-injectable face of libs/imaging for the worker (and the upload path).
 * Stateless: limits come in per call from the typed config, so this class
 * needs no providers. Call `configureSharp` once at boot.
 */
@Injectable()
export class ImagingService {
  probe(input: Buffer | string, limits: ProbeLimits): Promise<ImageProbe> {
    return probeImage(input, limits);
  }

  verifyDecodes(input: Buffer | string, options: VerifyDecodeOptions): Promise<void> {
    return verifyDecodes(input, options);
  }

  render(input: Buffer, spec: TransformationSpec, options: RenderOptions): Promise<RenderResult> {
    return render(input, spec, options);
  }

  renderMany(input: Buffer, specs: TransformationSpec[], options: RenderOptions): Promise<RenderResult[]> {
    return renderMany(input, specs, options);
  }

  /** ThumbHash, BlurHash and dominant colour, from the listing thumbnail's bytes. */
  placeholder(thumbnail: Buffer): Promise<ImagePlaceholder> {
    return computePlaceholder(thumbnail);
  }

  renderThumbnail(input: Buffer, inputFormat: InputFormat, options?: { maxInputPixels?: number }): Promise<RenderResult> {
    return renderThumbnail(input, inputFormat, options);
  }
}
