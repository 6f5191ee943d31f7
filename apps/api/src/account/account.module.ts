import { Module } from '@nestjs/common';
import { AccountService } from './account.service';
import { MeController } from './me.controller';
import { AuthModule } from '../auth/auth.module';

@Module({ imports: [AuthModule], controllers: [MeController], providers: [AccountService], exports: [AccountService] })
export class AccountModule {}
