import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { AppConfig } from '@pixmill/config';
import { JOB_FINAL_CHANNEL, JobEntity, parseJobAnnouncement } from '@pixmill/db';

/** After a failed LISTEN connection, how long before the next try. */
const RECONNECT_DELAY_MS = 1000;
/** A LISTEN connection that takes longer than this to open is given up (and tried again later). */
const CONNECT_TIMEOUT_MS = 5000;
/** Jobs submitted here whose end this process hears of (see `expect`); past this many the oldest go. */
const EXPECTED_MAX_ENTRIES = 10_000;

/** What this process has heard of a job it submitted while listening (see JobFinalWatcher.expect). */
export interface HeardJob {
  /** The job as submitted, while no end was heard. */
  submitted: JobEntity;
  /** An end was announced: the final row when the announcement carried it, else null (read the row). */
  ended: false | { final: JobEntity | null };
}

/** A registration for one job's final state; close it when done. */
export interface JobFinalWaiter {
  /**
   * Resolves within `ms`: with the final row when its announcement carried it, null otherwise
   * (announced by id only, timed out, or announcements were interrupted): then read the row.
   */
  until(ms: number): Promise<JobEntity | null>;
  close(): void;
}

/**
 * One LISTEN per process for every long-poll: the statement that makes a job final
 * announces its id on JOB_FINAL_CHANNEL, and PostgreSQL delivers it at the commit, so an
 * announcement always finds the row already written. A waiter registers before it reads the
 * row, so an announcement between the read and the wait is not missed.
 *
 * The connection is opened on first use (workers never open it). When it breaks, every
 * waiter is woken to read its row again, since announcements made meanwhile are lost; while
 * PostgreSQL is unreachable, waits simply time out and callers read the row on their schedule.
 * LISTEN needs a session: behind PgBouncer in transaction mode, point the API at PostgreSQL directly.
 */
@Injectable()
export class JobFinalWatcher implements OnApplicationShutdown {
  private readonly logger = new Logger('JobFinalWatcher');
  private readonly waiters = new Map<string, Set<(row: JobEntity | null) => void>>();
  private client?: Client;
  private connecting?: Promise<Client>;
  private retryAt = 0;
  private closed = false;
  /** A connection was up before: the next one that opens wakes every waiter to read its row. */
  private everConnected = false;
  private reconnectTimer?: NodeJS.Timeout;
  /** Counts the connections opened: an announcement is certain to be heard only on the one that was up when its job was submitted. */
  private generation = 0;
  /** Jobs submitted here while listening, oldest first: an end announced before anyone waits is kept for the long-poll that follows. */
  private readonly expected = new Map<string, { generation: number; submitted: JobEntity; ended: HeardJob['ended'] }>();

  constructor(private readonly config: AppConfig) {}

  /**
   * The connection in use now, or null when none is up; taken before a job's row is written and
   * handed to `expect` after, so that a connection that broke in between does not vouch for it.
   */
  listening(): number | null {
    return this.client ? this.generation : null;
  }

  /**
   * A job this process has just submitted, with the value `listening()` had before its row was
   * written: while that same connection stays up, every end of the job is announced on it, so a
   * long-poll of the job that follows need not read a row to learn it is still in flight, and an end
   * announced before the long-poll arrives is kept for it. A no-op when not listening (workers).
   */
  expect(job: JobEntity, listeningBefore: number | null): void {
    if (listeningBefore === null || listeningBefore !== this.listening()) return;
    if (this.expected.size >= EXPECTED_MAX_ENTRIES) this.expected.delete(this.expected.keys().next().value!);
    this.expected.set(job.id, { generation: listeningBefore, submitted: job, ended: false });
  }

  /**
   * What was heard of `jobId` if this process submitted it for `userId` on the connection still up:
   * its submitted row, or its end. Undefined otherwise: read the row (which also checks the owner).
   */
  heardOf(jobId: string, userId: string): HeardJob | undefined {
    const e = this.expected.get(jobId);
    if (!e || e.submitted.userId !== userId || e.generation !== this.listening()) return undefined;
    return { submitted: e.submitted, ended: e.ended };
  }

  watch(jobId: string): JobFinalWaiter {
    let wake: (row: JobEntity | null) => void = () => undefined;
    /** The final row, once an announcement carried it: every later wait answers with it. */
    let final: JobEntity | null = null;
    /** Woken without a row (announced by id, or announcements interrupted): the next wait returns at once, once. */
    let nudged = false;
    const onFinal = (row: JobEntity | null) => {
      if (row) final = row;
      else nudged = true;
      wake(row);
    };
    let set = this.waiters.get(jobId);
    if (!set) this.waiters.set(jobId, (set = new Set()));
    set.add(onFinal);
    // Registered before LISTEN was up (the first long-polls of a process, or after the connection
    // broke): an end announced meanwhile is lost, so the wait that finds it up returns at once and
    // the caller reads the row again.
    let unheard = !this.client;
    const take = (): JobEntity | null | undefined => {
      if (final) return final;
      if (nudged) {
        nudged = false;
        return null;
      }
      return undefined;
    };
    return {
      until: async (ms) => {
        const early = take();
        if (early !== undefined) return early;
        if (!this.client) unheard = true;
        await this.listen(ms);
        const meanwhile = take();
        if (meanwhile !== undefined) return meanwhile;
        if (unheard && this.client) {
          unheard = false;
          return null;
        }
        return new Promise<JobEntity | null>((resolve) => {
          const timer = setTimeout(() => resolve(null), ms);
          wake = (row) => {
            clearTimeout(timer);
            wake = () => undefined;
            if (!row) nudged = false; // this wake answers the nudge
            resolve(row);
          };
        });
      },
      close: () => {
        set!.delete(onFinal);
        if (!set!.size && this.waiters.get(jobId) === set) this.waiters.delete(jobId);
      },
    };
  }

  /**
   * The LISTEN connection, opened if needed (again after it broke, at most once a second);
   * never rejects (a failure is logged) and waits for a connection at most `ms`.
   */
  private async listen(ms: number): Promise<void> {
    if (this.client || this.closed) return;
    if (!this.connecting) {
      if (Date.now() < this.retryAt) return;
      this.connecting = this.connect().finally(() => (this.connecting = undefined));
    }
    let timer: NodeJS.Timeout | undefined;
    // A failed connect was logged in connect(); waits then time out and callers read their rows.
    await Promise.race([
      this.connecting.then(
        () => undefined,
        () => undefined,
      ),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
    ]);
    clearTimeout(timer);
  }

  private async connect(): Promise<Client> {
    const client = new Client({
      connectionString: this.config.database.url,
      application_name: 'pixmill-api:job-final',
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    client.on('notification', (msg) => {
      if (msg.channel !== JOB_FINAL_CHANNEL || !msg.payload) return;
      const id = msg.payload.startsWith('{') ? (msg.payload.match(/^\{"id"\s*:\s*"([^"]+)"/)?.[1] ?? '') : msg.payload;
      const waiting = this.waiters.get(id);
      const expected = this.expected.get(id);
      if (!waiting?.size && !expected) return; // most announcements are for jobs nobody here waits on: not parsed
      const { job } = parseJobAnnouncement(msg.payload);
      if (expected) expected.ended = { final: job };
      if (waiting) for (const wake of waiting) wake(job);
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${JOB_FINAL_CHANNEL}`);
    } catch (err) {
      this.retryAt = Date.now() + RECONNECT_DELAY_MS;
      this.reconnectLater();
      this.logger.warn({ msg: 'cannot listen for final job states; long-polls read their rows on a timer', code: 'job_final_listen_failed', error: (err as Error).message });
      client.removeAllListeners();
      await this.close(client);
      throw err;
    }
    if (this.closed) {
      await this.close(client);
      return client;
    }
    this.client = client;
    this.generation++;
    if (this.everConnected) this.wakeAll(); // announcements made while it was down are lost
    this.everConnected = true;
    return client;
  }

  /** Every waiter reads its row again. */
  private wakeAll(): void {
    for (const set of this.waiters.values()) for (const wake of set) wake(null);
  }

  /** While anyone waits, the connection is opened again once the retry delay has passed. */
  private reconnectLater(): void {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.waiters.size && !this.client) void this.listen(CONNECT_TIMEOUT_MS);
    }, RECONNECT_DELAY_MS);
    this.reconnectTimer.unref();
  }

  /** Announcements made while the connection was down are lost: every waiter reads its row again. */
  private lost(client: Client, err: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.expected.clear(); // what they vouched for is no longer certain
    this.retryAt = Date.now() + RECONNECT_DELAY_MS;
    if (!this.closed) this.logger.warn({ msg: 'lost the LISTEN connection for final job states', code: 'job_final_listen_lost', error: err.message });
    client.removeAllListeners();
    client.on('error', () => undefined);
    this.wakeAll();
    this.reconnectLater();
  }

  /** Ends a connection that is being given up; one that cannot even close is already gone. */
  private async close(client: Client): Promise<void> {
    try {
      await client.end();
    } catch (err) {
      this.logger.debug(`LISTEN connection closed with an error: ${(err as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    if (client) await this.close(client);
  }
}
