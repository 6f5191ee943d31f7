import { Global, Module } from '@nestjs/common';
import { HealthService } from '@pixmill/health';
import { HealthController } from './health.controller';

@Global()
@Module({ controllers: [HealthController], providers: [HealthService], exports: [HealthService] })
export class HealthModule {}
