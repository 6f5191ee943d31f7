import { Module } from '@nestjs/common';
import { AccountService } from './account.service';
import { AccountDeletionService } from './account-deletion.service';
import { MeController } from './me.controller';
import { AuthModule } from '../auth/auth.module';
import { ApiKeysController } from '../api-keys/api-keys.controller';
import { ApiKeysService } from '../api-keys/api-keys.service';

@Module({ imports: [AuthModule], controllers: [MeController, ApiKeysController], providers: [AccountService, ApiKeysService, AccountDeletionService], exports: [AccountService] })
export class AccountModule {}
