import { Module } from '@nestjs/common';
import { ImagesModule } from '../images/images.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { TransformationsModule } from '../transformations/transformations.module';
import { PresetsController } from '../presets/presets.controller';
import { PublicImageController } from './public-image.controller';
import { PublicImageService } from './public-image.service';
import { SrcsetController } from './srcset.controller';
import { SrcsetService } from './srcset.service';
import { UrlKeyCipher } from './url-key.cipher';
import { UrlKeysController } from './url-keys.controller';
import { UrlKeysService } from './url-keys.service';

/** Signed public image URLs (SPEC §8): signing keys and the `/i/` route. */
@Module({
  imports: [ImagesModule, TransformationsModule, RateLimitModule],
  controllers: [UrlKeysController, PublicImageController, PresetsController, SrcsetController],
  providers: [UrlKeyCipher, UrlKeysService, PublicImageService, SrcsetService],
  exports: [UrlKeysService],
})
export class PublicUrlsModule {}
