import { Module } from '@nestjs/common';
import { AccountService } from './account.service';
import { MeController } from './me.controller';

@Module({ controllers: [MeController], providers: [AccountService], exports: [AccountService] })
export class AccountModule {}
