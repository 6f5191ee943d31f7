import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { DomainException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { DerivativeRepository, JobEntity, JobRepository, NewDerivative, NewJob } from '@pixmill/db';
import { JobViewBuilder, WebhookOutbox } from '@pixmill/events';
import { JobEngineMetrics, JobFinalWatcher, JobLifecycle } from '@pixmill/jobs';
import { JobQueue, QueueName } from '@pixmill/queue';
import { HttpClient, jpeg, pollUntil, RunningApi, startApi, testConfig, TestUser, uploadForm, UserFactory } from '@pixmill/testing';
import { ImagesService } from '../../apps/api/src/images/images.service';

/**
 * JobLifecycle driven directly against the real PostgreSQL and Redis, with no worker: every
 * transition and the races HTTP cannot reach (cancel against start, success against image
 * deletion, two workers on one job, refunds under repetition and concurrency).
 */
describe('JobLifecycle (integration)', () => {
  let api: RunningApi;
  let lifecycle: JobLifecycle;
  let jobs: JobRepository;
  let queue: JobQueue;
  let ds: DataSource;
  let http: HttpClient;

  beforeAll(async () => {
    api = await startApi({ RATE_LIMIT_PER_MINUTE: '100000' });
    lifecycle = api.app.get(JobLifecycle);
    jobs = api.app.get(JobRepository);
    queue = api.app.get(JobQueue);
    ds = api.app.get(DataSource);
    http = new HttpClient(api.baseUrl);
  });
  const users: string[] = [];
  afterAll(async () => {
    // No worker ran here: the jobs this suite left in flight must not be rendered by a later suite's workers.
    await ds?.query(`UPDATE jobs SET status = 'canceled', finished_at = now() WHERE user_id = ANY($1) AND status IN ('queued', 'active')`, [users]);
    await queue?.queue(QueueName.Transform).drain();
    await api?.close();
  });

  async function userWithImage(plan: 'free' | 'unlimited' = 'free'): Promise<{ user: TestUser; imageId: string }> {
    const user = await new UserFactory(http).plan(plan).create();
    users.push(user.id);
    const res = await user.http.request('POST', '/v1/images', { body: uploadForm(await jpeg(64, 48), 'photo.jpg') });
    if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${res.text}`);
    return { user, imageId: res.body.id };
  }

  const newJob = (userId: string, imageId: string, extra: Partial<NewJob> = {}): NewJob => ({
    id: randomUUID(),
    userId,
    imageId,
    specHash: randomUUID(),
    spec: { operations: [], output: { format: 'png' } },
    ...extra,
  });

  const derivativeOf = (job: JobEntity, userId: string): NewDerivative => ({
    imageId: job.imageId!,
    userId,
    specHash: job.specHash,
    spec: job.spec,
    storageKey: `users/${userId}/images/${job.imageId}/derivatives/${job.specHash}.png`,
    format: 'png',
    mimeType: 'image/png',
    width: 64,
    height: 48,
    bytes: 100,
  });

  const unitsToday = async (userId: string): Promise<number> =>
    (await ds.query(`SELECT transforms_today AS n FROM users WHERE id = $1`, [userId]))[0].n;

  const row = (id: string) => jobs.findById(id);

  it('submit: one statement charges a unit and queues the row with its fair round; the queue holds it under its priority', async () => {
    const { user, imageId } = await userWithImage();
    const { job, created } = await lifecycle.submit(newJob(user.id, imageId));
    expect(created).toBe(true);
    // Its round: the lowest still waiting (other suites' jobs may wait in this database), 1 when none does.
    expect(job).toMatchObject({ status: 'queued', fairSeq: expect.any(Number), quotaRefunded: false, quotaDay: new Date().toISOString().slice(0, 10) });
    expect(job.fairSeq).toBeGreaterThanOrEqual(1);
    expect(await unitsToday(user.id)).toBe(1);
    const queued = await queue.queue(QueueName.Transform).getJob(job.id);
    expect(queued).toMatchObject({ id: job.id, data: { jobId: job.id }, opts: expect.objectContaining({ priority: job.fairSeq }) });
    expect(await queue.queue(QueueName.Transform).getJobState(job.id)).toBe('prioritized');
  });

  it('submit: the same render joins the job in flight (no new row, no unit); an Idempotency-Key replays or conflicts', async () => {
    const { user, imageId } = await userWithImage();
    const first = newJob(user.id, imageId, { idempotencyKey: 'k1', requestHash: 'h1' });
    const { job } = await lifecycle.submit(first);
    const again = await lifecycle.submit({ ...newJob(user.id, imageId), specHash: first.specHash, webhookUrl: 'https://example.com/hook' });
    expect(again).toMatchObject({ created: false, job: { id: job.id, webhookUrls: ['https://example.com/hook'] } });
    expect(await lifecycle.submit({ ...first, id: randomUUID() })).toMatchObject({ created: false, job: { id: job.id } });
    await expect(lifecycle.submit({ ...first, id: randomUUID(), requestHash: 'other' })).rejects.toMatchObject({ code: 'idempotency_conflict' });
    expect(await unitsToday(user.id)).toBe(1);
  });

  it('submit: the daily quota is exact under parallel requests; past it a new render is 429 but joining one in flight is free', async () => {
    const { user, imageId } = await userWithImage();
    const limit = api.app.get(AppConfig).plans.free.dailyTransforms;
    const results = await Promise.allSettled(Array.from({ length: limit + 5 }, () => lifecycle.submit(newJob(user.id, imageId))));
    const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as DomainException);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(limit);
    expect(refused.map((e) => e.code)).toEqual(Array(5).fill('daily_quota_exceeded'));
    expect(await unitsToday(user.id)).toBe(limit);
    const inFlight = (results[0] as PromiseFulfilledResult<{ job: JobEntity }>).value.job;
    expect(await lifecycle.submit({ ...newJob(user.id, imageId), specHash: inFlight.specHash })).toMatchObject({ created: false, job: { id: inFlight.id } });
  });

  it('submit: an existing derivative is a cache hit: a succeeded job, cached, that costs no unit', async () => {
    const { user, imageId } = await userWithImage();
    const { job } = await lifecycle.submit(newJob(user.id, imageId));
    await lifecycle.start(job.id, randomUUID());
    await lifecycle.succeed(job.id, derivativeOf(job, user.id));
    const hit = await lifecycle.submit({ ...newJob(user.id, imageId), specHash: job.specHash });
    expect(hit).toMatchObject({ created: false, job: { status: 'succeeded', cached: true, quotaDay: null } });
    expect(await unitsToday(user.id)).toBe(1);
  });

  it('fair rounds: a burst spreads over rounds; a newcomer joins the lowest round still waiting', async () => {
    const a = await userWithImage('unlimited');
    const b = await userWithImage();
    const c = await userWithImage();
    const burst = [];
    for (let i = 0; i < 5; i++) burst.push((await lifecycle.submit(newJob(a.user.id, a.imageId))).job);
    // Other tests' jobs wait in the queue too: rounds are relative to the lowest one waiting.
    const base = burst[0].fairSeq;
    expect(burst.map((j) => j.fairSeq - base)).toEqual([0, 1, 2, 3, 4]);
    const { job: bJob } = await lifecycle.submit(newJob(b.user.id, b.imageId));
    expect(bJob.fairSeq).toBeLessThanOrEqual(base);
    // A newcomer after the rounds up to A's third have started: no earlier than the lowest still waiting.
    await ds.query(`UPDATE jobs SET status = 'active' WHERE user_id = ANY($1) AND status = 'queued' AND fair_seq < $2`, [[a.user.id, b.user.id], base + 2]);
    const [{ lowest }] = await ds.query(`SELECT min(fair_seq)::float8 AS lowest FROM jobs WHERE status = 'queued'`);
    const { job: cJob } = await lifecycle.submit(newJob(c.user.id, c.imageId));
    expect(lowest).toBeLessThanOrEqual(base + 2); // A's third round, or an older round still waiting
    expect(cJob.fairSeq).toBe(lowest);
    const { job: aNext } = await lifecycle.submit(newJob(a.user.id, a.imageId));
    expect(aNext.fairSeq).toBe(base + 5); // after A's own, never before them
  });

  it('start → progress → succeed: one derivative, the row final once; a second run waits while the first holds the lease, then takes over', async () => {
    const { user, imageId } = await userWithImage();
    const { job } = await lifecycle.submit(newJob(user.id, imageId));
    const one = await lifecycle.start(job.id, 'run-a');
    expect(one).toMatchObject({ outcome: 'started', job: { status: 'active', attempts: 1 }, image: { id: imageId, userId: user.id }, derivativeId: null });
    // Redis lost the lock and the job was handed out again: the first run is alive, so the second waits out its lease.
    const busy = await lifecycle.start(job.id, 'run-b');
    expect(busy).toMatchObject({ outcome: 'busy' });
    expect((busy as { retryInMs: number }).retryInMs).toBeGreaterThan(0);
    expect((busy as { retryInMs: number }).retryInMs).toBeLessThanOrEqual(lifecycle.leaseMs);
    expect(await row(job.id)).toMatchObject({ status: 'active', attempts: 1 });
    // Only the holder renews.
    expect(await lifecycle.renewLeases([{ jobId: job.id, runToken: 'run-b' }])).toBe(0);
    expect(await lifecycle.renewLeases([{ jobId: job.id, runToken: 'run-a' }])).toBe(1);
    // The first run's process died and stopped renewing: once its lease lapses, the next run takes the job.
    await ds.query(`UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = $1`, [job.id]);
    const two = await lifecycle.start(job.id, 'run-b');
    expect(two).toMatchObject({ outcome: 'started', job: { attempts: 2 } });
    expect(await lifecycle.start(job.id, 'run-a')).toMatchObject({ outcome: 'busy' });
    // Should the first run still finish (it was only slow), both writes land once.
    const [first, second] = await Promise.all([lifecycle.succeed(job.id, derivativeOf(job, user.id)), lifecycle.succeed(job.id, derivativeOf(job, user.id))]);
    const applied = [first, second].filter((o) => 'job' in o && o.job);
    expect(applied).toHaveLength(1);
    const ids = [first, second].map((o) => ('derivativeId' in o ? o.derivativeId : null));
    expect(ids[0]).toBe(ids[1]);
    expect(await api.app.get(DerivativeRepository).listForImage(imageId)).toHaveLength(1);
    expect(await row(job.id)).toMatchObject({ status: 'succeeded', progress: 100, derivativeId: ids[0] });
    // A restart after success finds nothing to start, whoever asks.
    expect(await lifecycle.start(job.id, 'run-b')).toEqual({ outcome: 'gone' });
    expect(await lifecycle.start(job.id, 'run-c')).toEqual({ outcome: 'gone' });
  });

  it('a lease released at hand-back or after a failed attempt: the next run starts the job at once', async () => {
    const { user, imageId } = await userWithImage();
    const { job } = await lifecycle.submit(newJob(user.id, imageId));
    expect(await lifecycle.start(job.id, 'run-leaving')).toMatchObject({ outcome: 'started' });
    expect(await lifecycle.start(job.id, 'run-next')).toMatchObject({ outcome: 'busy' });
    await jobs.releaseLeases([{ jobId: job.id, runToken: 'someone-else' }]); // not the holder: nothing changes
    expect(await lifecycle.start(job.id, 'run-next')).toMatchObject({ outcome: 'busy' });
    await jobs.releaseLeases([{ jobId: job.id, runToken: 'run-leaving' }]);
    expect(await lifecycle.start(job.id, 'run-next')).toMatchObject({ outcome: 'started', job: { attempts: 2 } });
    // An attempt that threw ends its lease the same way: BullMQ's retry starts at once.
    expect(await lifecycle.start(job.id, 'run-retry')).toMatchObject({ outcome: 'busy' });
    await lifecycle.endAttempt({ jobId: job.id, runToken: 'run-next' });
    expect(await lifecycle.start(job.id, 'run-retry')).toMatchObject({ outcome: 'started', job: { attempts: 3 } });
  });

  it('announcements: a success carries the final row and its derivative to the waiter; a cancel wakes it by id', async () => {
    const { user, imageId } = await userWithImage();
    const watcher = api.app.get(JobFinalWatcher);
    // The process's LISTEN opens on first use; a wait registered before it was up returns at once (read the row).
    const first = watcher.watch(randomUUID());
    expect(await first.until(20_000)).toBeNull();
    first.close();
    const { job } = await lifecycle.submit(newJob(user.id, imageId));
    const waiter = watcher.watch(job.id);
    try {
      await lifecycle.start(job.id, randomUUID());
      const waited = waiter.until(20_000);
      await lifecycle.succeed(job.id, derivativeOf(job, user.id));
      const announced = await waited;
      expect(announced).toMatchObject({ id: job.id, status: 'succeeded', userId: user.id, derivative: { width: 64, height: 48, format: 'png' } });
      expect(announced!.finishedAt).toBeInstanceOf(Date);
      expect(announced!.derivative!.id).toBe(announced!.derivativeId);
    } finally {
      waiter.close();
    }

    const { job: other } = await lifecycle.submit(newJob(user.id, imageId));
    const byId = watcher.watch(other.id);
    try {
      const started = Date.now();
      const waited = byId.until(20_000);
      await lifecycle.cancel(user.id, other.id);
      expect(await waited).toBeNull(); // woken without the row: the caller reads it
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      byId.close();
    }
  });

  it('a LISTEN connection that breaks: waiters are woken once to read their rows, then wait again and hear the next announcement', async () => {
    const { user, imageId } = await userWithImage();
    const watcher = api.app.get(JobFinalWatcher);
    const { job } = await lifecycle.submit(newJob(user.id, imageId));
    const waiter = watcher.watch(job.id);
    try {
      expect(await waiter.until(50)).toBeNull(); // the connection may open here: read the row
      const broken = waiter.until(20_000);
      await ds.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pixmill-api:job-final'`);
      expect(await broken).toBeNull(); // woken at once: announcements made meanwhile are lost
      // Not a spin: the next wait waits, while the connection comes back on its own.
      const started = Date.now();
      await waiter.until(300);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      const listening = () => ds.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'pixmill-api:job-final'`);
      expect((await pollUntil(listening, ([{ n }]) => n === 1, 10_000, 100))[0].n).toBe(1);
      await waiter.until(50); // the reconnection wakes waiters once, to read their rows
      await lifecycle.start(job.id, randomUUID());
      const heard = waiter.until(20_000);
      await lifecycle.succeed(job.id, derivativeOf(job, user.id));
      expect(await heard).toMatchObject({ id: job.id, status: 'succeeded' });
    } finally {
      waiter.close();
    }
  });

  it('jobs submitted while listening: the process knows them in flight, keeps an end announced before anyone waits, and forgets them when LISTEN breaks', async () => {
    const { user, imageId } = await userWithImage();
    const { user: stranger } = await userWithImage();
    const watcher = api.app.get(JobFinalWatcher);
    const listening = () => ds.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'pixmill-api:job-final'`);
    const opener = watcher.watch(randomUUID());
    await opener.until(50); // opens the process's LISTEN if no test did
    opener.close();
    await pollUntil(listening, ([{ n }]) => n === 1, 10_000, 100);
    expect(watcher.listening()).not.toBeNull();

    const { job } = await lifecycle.submit(newJob(user.id, imageId));
    expect(watcher.heardOf(job.id, user.id)).toMatchObject({ submitted: { id: job.id, status: 'queued' }, ended: false });
    expect(watcher.heardOf(job.id, stranger.id)).toBeUndefined(); // another user's: read the row (and answer 404)
    await lifecycle.start(job.id, randomUUID());
    await lifecycle.succeed(job.id, derivativeOf(job, user.id));
    // Nobody waited: the announcement is kept for the long-poll that comes next.
    const ended = await pollUntil(async () => watcher.heardOf(job.id, user.id), (h) => !!h?.ended, 10_000, 20);
    expect(ended!.ended).toMatchObject({ final: { id: job.id, status: 'succeeded', derivative: { width: 64 } } });

    const { job: canceled } = await lifecycle.submit(newJob(user.id, imageId));
    await lifecycle.cancel(user.id, canceled.id);
    const byId = await pollUntil(async () => watcher.heardOf(canceled.id, user.id), (h) => !!h?.ended, 10_000, 20);
    expect(byId!.ended).toEqual({ final: null }); // announced by id: read the row

    const { job: pending } = await lifecycle.submit(newJob(user.id, imageId));
    expect(watcher.heardOf(pending.id, user.id)).toBeDefined();
    await ds.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pixmill-api:job-final'`);
    await pollUntil(async () => watcher.listening(), (l) => l === null, 10_000, 20);
    expect(watcher.heardOf(pending.id, user.id)).toBeUndefined(); // an end may have gone unheard
    // A job submitted while not listening is never vouched for, even once LISTEN is back.
    const { job: unheard } = await lifecycle.submit(newJob(user.id, imageId));
    const reopen = watcher.watch(randomUUID());
    await pollUntil(async () => (await reopen.until(100), watcher.listening()), (l) => l !== null, 10_000, 0);
    reopen.close();
    expect(watcher.heardOf(unheard.id, user.id)).toBeUndefined();
  });

  it('submit for an image deleted meanwhile (its row read before the delete) is 404, and nothing is charged', async () => {
    const { user, imageId } = await userWithImage();
    await api.app.get(ImagesService).delete(user.id, imageId);
    await expect(lifecycle.submit(newJob(user.id, imageId))).rejects.toMatchObject({ code: 'not_found' });
    expect(await unitsToday(user.id)).toBe(0);
  });

  it('cancel against start: whichever commits first wins; a canceled job never starts and is refunded once', async () => {
    const { user, imageId } = await userWithImage();
    const { job } = await lifecycle.submit(newJob(user.id, imageId));
    const [canceled, started] = await Promise.allSettled([lifecycle.cancel(user.id, job.id), lifecycle.start(job.id, randomUUID())]);
    const final = await row(job.id);
    if (canceled.status === 'fulfilled') {
      expect(started).toMatchObject({ status: 'fulfilled', value: { outcome: 'gone' } });
      expect(final).toMatchObject({ status: 'canceled', quotaRefunded: true });
      expect(await unitsToday(user.id)).toBe(0);
      expect(await queue.queue(QueueName.Transform).getJobState(job.id)).toBe('unknown');
    } else {
      expect((canceled.reason as DomainException).code).toBe('job_not_cancelable');
      expect(final).toMatchObject({ status: 'active', quotaRefunded: false });
      expect(await unitsToday(user.id)).toBe(1);
    }
    // Either way, a second cancel refunds nothing more.
    await expect(lifecycle.cancel(user.id, job.id)).rejects.toMatchObject({ code: 'job_not_cancelable' });
    expect(await unitsToday(user.id)).toBe(canceled.status === 'fulfilled' ? 0 : 1);
  });

  it("cancel: another user's job is 404; an active job is 409 and keeps its unit", async () => {
    const { user, imageId } = await userWithImage();
    const other = await userWithImage();
    const { job } = await lifecycle.submit(newJob(user.id, imageId));
    await expect(lifecycle.cancel(other.user.id, job.id)).rejects.toMatchObject({ code: 'not_found' });
    await lifecycle.start(job.id, randomUUID());
    await expect(lifecycle.cancel(user.id, job.id)).rejects.toMatchObject({ code: 'job_not_cancelable' });
    expect(await unitsToday(user.id)).toBe(1);
  });

  it('succeed against image deletion: the render that lands after the delete finds the image gone; the started job is canceled, not refunded', async () => {
    const { user, imageId } = await userWithImage();
    const { job: rendering } = await lifecycle.submit(newJob(user.id, imageId));
    const { job: waiting } = await lifecycle.submit(newJob(user.id, imageId));
    await lifecycle.start(rendering.id, randomUUID());
    expect(await unitsToday(user.id)).toBe(2);
    await api.app.get(ImagesService).delete(user.id, imageId);
    expect(await lifecycle.succeed(rendering.id, derivativeOf(rendering, user.id))).toEqual({ imageGone: true });
    expect(await row(rendering.id)).toMatchObject({ status: 'canceled', imageId: null, quotaRefunded: false });
    expect(await row(waiting.id)).toMatchObject({ status: 'canceled', imageId: null, quotaRefunded: true });
    expect(await unitsToday(user.id)).toBe(1); // only the job that never started gave its unit back
    expect(await lifecycle.start(waiting.id, randomUUID())).toEqual({ outcome: 'gone' });
    expect(await queue.queue(QueueName.Transform).getJobState(waiting.id)).toBe('unknown');
  });

  it('an internal failure refunds once, however many paths report it at once; a permanent one keeps the unit', async () => {
    const { user, imageId } = await userWithImage();
    const { job } = await lifecycle.submit(newJob(user.id, imageId));
    await lifecycle.start(job.id, randomUUID());
    const reports = await Promise.all(Array.from({ length: 6 }, () => lifecycle.failInternal(job.id, 'Rendering failed after 5 attempts: storage down')));
    expect(reports.filter(Boolean)).toHaveLength(1);
    expect(await row(job.id)).toMatchObject({ status: 'failed', errorCode: 'internal_error', quotaRefunded: true });
    expect(await unitsToday(user.id)).toBe(0);
    expect(await lifecycle.failInternal(job.id, 'again')).toBeNull();
    expect(await unitsToday(user.id)).toBe(0);

    const { job: bad } = await lifecycle.submit(newJob(user.id, imageId));
    await lifecycle.start(bad.id, randomUUID());
    expect(await lifecycle.fail(bad.id, 'image_corrupt', 'The image data is truncated.')).toMatchObject({ status: 'failed', quotaRefunded: false });
    expect(await lifecycle.failInternal(bad.id, 'late report')).toBeNull();
    expect(await unitsToday(user.id)).toBe(1);
  });

  it('the running cap, when a plan sets one: a start over the cap is refused until one of the running jobs ends', async () => {
    const config = testConfig({ PLAN_FREE_MAX_RUNNING_JOBS: '2' });
    const capped = new JobLifecycle(
      ds,
      jobs,
      api.app.get(DerivativeRepository),
      queue,
      api.app.get(JobViewBuilder),
      api.app.get(WebhookOutbox),
      new JobEngineMetrics(),
      api.app.get(JobFinalWatcher),
      config,
    );
    const { user, imageId } = await userWithImage();
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await capped.submit(newJob(user.id, imageId))).job.id);
    const starts = await Promise.all(ids.map((id) => capped.start(id, randomUUID())));
    expect(starts.map((s) => s.outcome).sort()).toEqual(['over_cap', 'started', 'started']);
    const waiting = ids[starts.findIndex((s) => s.outcome === 'over_cap')];
    expect(await row(waiting)).toMatchObject({ status: 'queued', attempts: 0 });
    await capped.failInternal(ids[starts.findIndex((s) => s.outcome === 'started')], 'done');
    expect(await capped.start(waiting, randomUUID())).toMatchObject({ outcome: 'started' });
  });

  it('a queue that cannot be reached after the commit: the row stays queued, the failure is counted, and the reconciler has the row', async () => {
    const config = testConfig();
    // A producer whose connection is gone: every queue call fails at once.
    const offline = new JobQueue(config);
    await offline.onApplicationShutdown();
    const metrics = new JobEngineMetrics();
    const lonely = new JobLifecycle(ds, jobs, api.app.get(DerivativeRepository), offline, api.app.get(JobViewBuilder), api.app.get(WebhookOutbox), metrics, api.app.get(JobFinalWatcher), config);
    const { user, imageId } = await userWithImage();
    const { job, created } = await lonely.submit(newJob(user.id, imageId));
    expect(created).toBe(true);
    expect(await row(job.id)).toMatchObject({ status: 'queued' });
    const counted = (await metrics.afterCommitFailures.get()).values;
    expect(counted).toEqual([expect.objectContaining({ labels: { action: 'enqueue', code: 'queue_enqueue_failed' }, value: 1 })]);
    expect((await jobs.inFlight(-60, 100_000)).map((j) => j.id)).toContain(job.id);
  });
});
