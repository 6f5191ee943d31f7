import { Injectable } from '@nestjs/common';
import { ValidationFailedException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { ImagesService } from '../images/images.service';
import { TransformationsService } from '../transformations/transformations.service';
import { readPublicOptions } from './public-options.util';
import { SrcsetDto } from './srcset.dto';
import { UrlKeysService } from './url-keys.service';
import { signedUrl } from './url-signature.util';

const MAX_WIDTHS = 10;

/** `GET /v1/images/{id}/srcset`: signed /i/ URLs of one image at several widths (SPEC §8). */
@Injectable()
export class SrcsetService {
  constructor(
    private readonly images: ImagesService,
    private readonly transformations: TransformationsService,
    private readonly keys: UrlKeysService,
    private readonly config: AppConfig,
  ) {}

  async build(userId: string, imageId: string, query: URLSearchParams): Promise<SrcsetDto> {
    const image = await this.images.getOwned(userId, imageId);
    const widths = parseWidths(query.getAll('widths'));
    const options = new URLSearchParams([...query.entries()].filter(([k]) => k !== 'widths'));
    if (options.has('resize')) throw new ValidationFailedException([{ field: 'resize', message: 'the widths make the resize; use a preset or crop for the shape' }]);
    // The options are checked now (a typo is a 400 here, not a broken image on the page).
    const own = readPublicOptions(options);
    await this.transformations.querySpec(own.specEntries, userId);

    const key = await this.keys.currentKey(userId);
    const base = this.config.http.publicBaseUrl.replace(/\/+$/, '');
    const prefix = options.toString();
    const urlOf = (w: number) => `${base}${signedUrl(key, `/i/${image.id}?${prefix ? `${prefix}&` : ''}resize=${w}x`)}`;
    const widest = widths[widths.length - 1];
    const src = urlOf(widest);
    const srcset = widths.map((w) => `${urlOf(w)} ${w}w`).join(', ');
    const sizes = `(max-width: ${widest}px) 100vw, ${widest}px`;
    const html = `<img src="${escapeAttr(src)}" srcset="${escapeAttr(srcset)}" sizes="${sizes}" alt="">`;
    return { src, srcset, sizes, html };
  }
}

function parseWidths(raw: string[]): number[] {
  const parts = raw.join(',').split(',').filter((p) => p !== '');
  const widths = [...new Set(parts.map(Number))].sort((a, b) => a - b);
  if (!parts.length || parts.length > MAX_WIDTHS || widths.some((w) => !Number.isInteger(w) || w < 1 || w > 8192)) {
    throw new ValidationFailedException([{ field: 'widths', message: `widths must be 1–${MAX_WIDTHS} pixel widths (1–8192), comma-separated` }]);
  }
  return widths;
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
