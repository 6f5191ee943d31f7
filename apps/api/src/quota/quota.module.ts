import { Global, Module } from '@nestjs/common';
import { DailyQuotaService } from './daily-quota.service';

/** Global so the transformations service can charge renders without its module importing this one. */
@Global()
@Module({ providers: [DailyQuotaService], exports: [DailyQuotaService] })
export class QuotaModule {}
