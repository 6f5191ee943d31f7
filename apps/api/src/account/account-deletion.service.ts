import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { InvalidCredentialsException } from '@pixmill/common';
import { CanceledJob, ImageRepository, StorageCleanupRepository, UserRepository } from '@pixmill/db';
import { JobLifecycle } from '@pixmill/jobs';
import { JobQueue } from '@pixmill/queue';
import { userPrefix } from '@pixmill/storage';
import { ApiKeyMemo } from '../auth/api-key.memo';
import { PasswordHasher } from '../auth/password.hasher';
import { VerifiedEmailGuard } from '../auth/verified-email.guard';
import { VerifiedTokenMemo } from '../auth/verified-token.memo';

/**
 * DELETE /v1/me. In one transaction under the account row's lock: its jobs in flight are
 * canceled (JobLifecycle), its images and then the account row are deleted (every other
 * row of the account cascades: derivatives, jobs, webhooks, presets, URL and API keys,
 * refresh tokens), and one cleanup record names the account's whole storage prefix. After
 * the commit the canceled jobs leave the queue, the retried cleanup job removes the
 * objects, and this process forgets the account's tokens and keys; the other API
 * processes stop accepting them within a minute (VerifiedTokenMemo, ApiKeyMemo), since
 * each re-reads the account (or key) that often. The address is free to sign up again.
 *
 * ImageFactsMemo needs nothing: its entries answer only their owner, who can no longer
 * authenticate, and a job submitted for a deleted image fails its foreign key (404).
 */
@Injectable()
export class AccountDeletionService {
  private readonly logger = new Logger('AccountDeletionService');

  constructor(
    private readonly ds: DataSource,
    private readonly users: UserRepository,
    private readonly images: ImageRepository,
    private readonly cleanups: StorageCleanupRepository,
    private readonly lifecycle: JobLifecycle,
    private readonly queue: JobQueue,
    private readonly passwords: PasswordHasher,
    private readonly tokenMemo: VerifiedTokenMemo,
    private readonly keyMemo: ApiKeyMemo,
    private readonly verifiedEmail: VerifiedEmailGuard,
  ) {}

  async delete(userId: string, password: string): Promise<void> {
    const user = await this.users.findById(userId);
    // Verified even without an account, so the answer takes the same time (argon2id).
    const ok = await this.passwords.verify(user?.passwordHash, password);
    if (!user || !ok) throw new InvalidCredentialsException();
    let canceled: CanceledJob[] = [];
    const cleanupId = await this.ds.transaction(async (em) => {
      if (!(await this.users.lockForDeletion(userId, em))) throw new InvalidCredentialsException();
      canceled = await this.lifecycle.cancelForAccount(em, userId);
      await this.images.deleteAllOfUser(userId, em);
      await this.users.deleteAccount(userId, em);
      return this.cleanups.add(userPrefix(userId), 'account deleted', em);
    });
    this.tokenMemo.forgetUser(userId);
    this.keyMemo.forgetUser(userId);
    this.verifiedEmail.forget(userId);
    await this.lifecycle.afterImageJobsCanceled(canceled);
    try {
      await this.queue.enqueueStorageCleanup(cleanupId);
    } catch (err) {
      // The cleanup row is the truth: the reconciler enqueues a cleanup whose job was lost.
      this.logger.warn({ msg: 'storage cleanup not enqueued; the reconciler will', code: 'queue_enqueue_failed', cleanupId, error: (err as Error).message });
    }
    this.logger.log({ msg: 'account deleted', userId, canceledJobs: canceled.length, cleanupId });
  }
}
