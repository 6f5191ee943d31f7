import { Module } from '@nestjs/common';
import { ImagingService } from '@pixmill/imaging';
import { ImageIntakeService } from './image-intake.service';
import { ImageUploadService } from './image-upload.service';
import { ImagesController } from './images.controller';
import { ImagesService } from './images.service';

@Module({
  controllers: [ImagesController],
  providers: [ImagesService, ImageIntakeService, ImageUploadService, ImagingService],
  exports: [ImagesService, ImageIntakeService],
})
export class ImagesModule {}
