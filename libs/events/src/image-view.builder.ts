import { Injectable } from '@nestjs/common';
import { ImageEntity } from '@pixmill/db';
import { DeliveryUrlService } from '@pixmill/storage';
import { ImageView } from './webhook-event.types';

export interface ImageViewOptions {
  /**
   * The owner's GPS position is shown on the owner's own API reads only. Webhook
   * payloads leave it out: they are stored in delivery logs and often forwarded to
   * third-party receivers (docs/decisions/009).
   */
  includeGps: boolean;
  /** Delivery URLs; false for an image that is gone (its objects are being deleted). */
  includeUrls?: boolean;
}

/** The one mapping from an image row to what clients see, shared by the API's answers and webhook payloads. */
@Injectable()
export class ImageViewBuilder {
  constructor(private readonly delivery: DeliveryUrlService) {}

  async build(image: ImageEntity, opts: ImageViewOptions): Promise<ImageView> {
    const withUrls = opts.includeUrls ?? true;
    const [original, thumbnail] = await Promise.all([
      withUrls ? this.delivery.urlFor(image.storageKey) : null,
      withUrls && image.thumbnailKey ? this.delivery.urlFor(image.thumbnailKey) : null,
    ]);
    const gps = opts.includeGps && image.gps ? { gps: image.gps } : {};
    const exif = image.exif || Object.keys(gps).length ? { ...(image.exif ?? {}), ...gps } : null;
    return {
      id: image.id,
      filename: image.filename,
      format: image.format,
      mimeType: image.mimeType,
      width: image.width,
      height: image.height,
      bytes: image.bytes,
      pages: image.pages,
      sha256: image.sha256,
      exif,
      createdAt: new Date(image.createdAt).toISOString(),
      urls: { original, thumbnail },
      placeholder: image.placeholder
        ? { thumbhash: image.placeholder.thumbhash, blurhash: image.placeholder.blurhash, dominantColor: image.placeholder.dominantColor }
        : null,
    };
  }
}
