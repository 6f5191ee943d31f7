import { Module } from '@nestjs/common';
import { ImagesModule } from '../images/images.module';
import { JobsController } from '../jobs/jobs.controller';
import { JobsService } from '../jobs/jobs.service';
import { TransformationsController } from './transformations.controller';

@Module({
  imports: [ImagesModule],
  controllers: [TransformationsController, JobsController],
  providers: [JobsService],
  exports: [JobsService],
})
export class TransformationsModule {}
