import { Module } from '@nestjs/common';
import { ImagingService } from '@pixmill/imaging';
import { ImageIntakeService } from './image-intake.service';
import { ImageUploadService } from './image-upload.service';
import { ImagesController } from './images.controller';
import { ImagesService } from './images.service';
import { DirectUploadService } from './direct-upload.service';
import { UploadsController } from './uploads.controller';

@Module({
  controllers: [ImagesController, UploadsController],
  providers: [DirectUploadService, ImagesService, ImageIntakeService, ImageUploadService, ImagingService],
  exports: [ImagesService, ImageIntakeService],
})
export class ImagesModule {}
