import { Module } from '@nestjs/common';
import { ImagingService } from '@pixmill/imaging';
import { ImageIntakeService } from './image-intake.service';
import { ImageUploadService } from './image-upload.service';
import { ImagesController } from './images.controller';
import { ImagesService } from './images.service';
import { ImageFactsMemo } from './image-facts.memo';
import { DirectUploadService } from './direct-upload.service';
import { UploadsController } from './uploads.controller';
import { TransformationsService } from '../transformations/transformations.service';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { PresetsService } from '../presets/presets.service';

@Module({
  imports: [WebhooksModule],
  controllers: [ImagesController, UploadsController],
  providers: [TransformationsService, DirectUploadService, ImagesService, ImageIntakeService, ImageUploadService, ImagingService, ImageFactsMemo, PresetsService],
  exports: [ImagesService, ImageIntakeService, TransformationsService, PresetsService],
})
export class ImagesModule {}
