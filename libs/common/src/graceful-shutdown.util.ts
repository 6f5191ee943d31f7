/**
 * On SIGTERM/SIGINT: close the application (stop taking work, finish what is in
 * hand, close connections), then exit 0 — or 1 if closing fails or takes longer
 * than `timeoutMs`. A second signal exits at once.
 */
export function exitGracefullyOn(close: () => Promise<void>, log: (msg: string) => void, timeoutMs = 30_000): void {
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) process.exit(1);
    closing = true;
    log(`${signal} received: finishing work in hand, then exiting`);
    setTimeout(() => {
      log(`shutdown took longer than ${timeoutMs} ms; exiting`);
      process.exit(1);
    }, timeoutMs).unref();
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
