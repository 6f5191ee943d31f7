import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { JobRepository, NewJob } from '@pixmill/db';
import { JobLifecycle } from '@pixmill/jobs';
import { JobQueue, QueueName } from '@pixmill/queue';
import { HttpClient, jpeg, RunningApi, startApi, TestUser, uploadForm, UserFactory } from '@pixmill/testing';
import { AccountDeletionService } from '../../apps/api/src/account/account-deletion.service';

/**
 * Account deletion against the real PostgreSQL and Redis, with no worker: its jobs in flight
 * (queued and active) are canceled through JobLifecycle and leave the queue, a render that
 * reports afterwards finds its image gone, and other accounts keep theirs.
 */
describe('account deletion and the job lifecycle (integration)', () => {
  let api: RunningApi;
  let lifecycle: JobLifecycle;
  let jobs: JobRepository;
  let queue: JobQueue;
  let ds: DataSource;
  let http: HttpClient;
  const kept: string[] = [];

  beforeAll(async () => {
    api = await startApi();
    lifecycle = api.app.get(JobLifecycle);
    jobs = api.app.get(JobRepository);
    queue = api.app.get(JobQueue);
    ds = api.app.get(DataSource);
    http = new HttpClient(api.baseUrl);
  });
  afterAll(async () => {
    // No worker ran here: jobs left in flight must not be rendered by a later suite's workers.
    await ds?.query(`UPDATE jobs SET status = 'canceled', finished_at = now() WHERE user_id = ANY($1) AND status IN ('queued', 'active')`, [kept]);
    await queue?.queue(QueueName.Transform).drain();
    await api?.close();
  });

  async function userWithImage(): Promise<{ user: TestUser; imageId: string }> {
    const user = await new UserFactory(http).create();
    const res = await user.http.request('POST', '/v1/images', { body: uploadForm(await jpeg(64, 48), 'photo.jpg') });
    if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${res.text}`);
    return { user, imageId: res.body.id };
  }
  const newJob = (userId: string, imageId: string): NewJob => ({
    id: randomUUID(),
    userId,
    imageId,
    specHash: randomUUID(),
    spec: { operations: [], output: { format: 'png' } },
  });

  it('cancels the queued and the active job of the account, removes them from the queue; a late render finds its image gone', async () => {
    const { user, imageId } = await userWithImage();
    const other = await userWithImage();
    kept.push(other.user.id);
    const queued = (await lifecycle.submit(newJob(user.id, imageId))).job;
    const active = (await lifecycle.submit(newJob(user.id, imageId))).job;
    expect((await lifecycle.start(active.id, randomUUID())).outcome).toBe('started');
    const theirs = (await lifecycle.submit(newJob(other.user.id, other.imageId))).job;
    const transform = queue.queue(QueueName.Transform);
    expect(await transform.getJob(queued.id)).toBeTruthy();

    await api.app.get(AccountDeletionService).delete(user.id, user.password);

    expect(await jobs.findById(queued.id)).toBeNull();
    expect(await jobs.findById(active.id)).toBeNull();
    expect(await transform.getJob(queued.id)).toBeFalsy();
    expect(await transform.getJob(active.id)).toBeFalsy();

    // The worker that held the active job reports: nothing is recorded, it removes what it stored.
    const late = await lifecycle.succeed(active.id, {
      imageId,
      userId: user.id,
      specHash: active.specHash,
      spec: active.spec,
      storageKey: `users/${user.id}/images/${imageId}/derivatives/${active.specHash}.png`,
      format: 'png',
      mimeType: 'image/png',
      width: 64,
      height: 48,
      bytes: 100,
    });
    expect(late).toEqual({ imageGone: true });
    expect((await lifecycle.start(queued.id, randomUUID())).outcome).toBe('gone');

    expect((await jobs.findById(theirs.id))?.status).toBe('queued');
    expect(await transform.getJob(theirs.id)).toBeTruthy();
  });
});
