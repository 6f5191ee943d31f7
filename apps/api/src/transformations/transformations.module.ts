import { Module } from '@nestjs/common';
import { ImagesModule } from '../images/images.module';
import { JobsController } from '../jobs/jobs.controller';
import { JobsService } from '../jobs/jobs.service';
import { TransformationsController } from './transformations.controller';
import { TransformationsService } from './transformations.service';

@Module({
  imports: [ImagesModule],
  controllers: [TransformationsController, JobsController],
  providers: [TransformationsService, JobsService],
})
export class TransformationsModule {}
