import { Module } from '@nestjs/common';
import { AdminController } from './admin.controller';
import { AdminSessionService } from './admin-session.service';

/** The queue dashboard's sign-in; the dashboard itself is mounted by createApiApp (queue-dashboard.ts). */
@Module({
  controllers: [AdminController],
  providers: [AdminSessionService],
  exports: [AdminSessionService],
})
export class AdminModule {}
