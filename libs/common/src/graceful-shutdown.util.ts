export interface GracefulShutdownOptions {
  /** How long closing may take after the first signal (API_SHUTDOWN_TIMEOUT_MS, WORKER_SHUTDOWN_TIMEOUT_MS). */
  timeoutMs: number;
  /**
   * Runs when the process is about to end with work still in hand: gives that work back
   * so that another process takes it up now. Given at most HAND_BACK_TIMEOUT_MS.
   */
  handBack?: () => Promise<void>;
}

/** What handBack may take: a few Redis calls, unless Redis is down (then the orchestrator's SIGKILL is near anyway). */
const HAND_BACK_TIMEOUT_MS = 5_000;

/**
 * On SIGTERM/SIGINT: close the application (stop taking work, finish what is in hand,
 * close connections), then exit 0, or 1 if closing fails. If closing takes longer than
 * `timeoutMs`, or the same signal comes again, the work still in hand is handed back and
 * the process ends itself with SIGKILL.
 *
 * SIGKILL because process.exit() cannot end a process while a render runs: Node's exit
 * path joins the libuv threadpool (uv_library_shutdown → uv__threadpool_cleanup →
 * pthread_join), so it waits for every native task running there to return, and a libvips
 * render (a 50 MP AVIF encode in libaom) cannot be cancelled. A worker that called
 * process.exit(1) 30 s after SIGTERM stayed up until its render ended at +81 s. Once the
 * work is handed back nothing in the process is worth waiting for, so it ends the way its
 * orchestrator would. SIGKILL runs no exit handlers: `log` must write synchronously.
 *
 * Only the same signal twice forces: a terminal's Ctrl-C reaches `npm start`'s children
 * both directly (SIGINT, to the whole process group) and through scripts/start.js (SIGTERM),
 * and that is one request to stop, not two.
 */
export function exitGracefullyOn(close: () => Promise<void>, log: (msg: string) => void, options: GracefulShutdownOptions): void {
  let first: NodeJS.Signals | undefined;
  let ending = false;
  const endNow = async (reason: string) => {
    if (ending) return;
    ending = true;
    log(reason);
    if (options.handBack) {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, HAND_BACK_TIMEOUT_MS)));
      await Promise.race([options.handBack().catch((err) => log(`handing back the work in hand failed: ${err?.message ?? err}`)), bound]);
      clearTimeout(timer);
    }
    log('exiting now (SIGKILL: process.exit would wait for the native work in progress)');
    process.kill(process.pid, 'SIGKILL');
  };
  const handler = (signal: NodeJS.Signals) => {
    if (first) {
      if (signal === first) void endNow(`${signal} received again: stopping without finishing the work in hand`);
      else log(`${signal} received: already stopping (${first} again stops at once)`);
      return;
    }
    first = signal;
    log(`${signal} received: finishing work in hand (up to ${options.timeoutMs} ms), then exiting`);
    setTimeout(() => void endNow(`shutdown took longer than ${options.timeoutMs} ms: giving up on the work in hand`), options.timeoutMs);
    close().then(
      () => process.exit(0),
      (err) => {
        log(`shutdown failed: ${err?.message ?? err}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
