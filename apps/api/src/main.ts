// First: tracing (when on) must be in place before the modules it instruments load.
import { tracing } from './tracing';
import 'reflect-metadata';
import { exitGracefullyOn } from '@pixmill/common';
import { loadConfigOrExit } from '@pixmill/config';
import { createApiApp } from './api.factory';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const app = await createApiApp(config);
  await app.listen({ port: config.http.port, host: config.http.host });
  // SIGTERM/SIGINT: stop accepting, answer the requests in hand (up to API_SHUTDOWN_TIMEOUT_MS), then close.
  exitGracefullyOn(() => app.close().then(() => tracing?.shutdown()), (msg) => process.stdout.write(`${JSON.stringify({ level: 30, app: 'pixmill-api', msg })}\n`), {
    timeoutMs: config.http.shutdownTimeoutMs,
  });
  if (tracing) process.stdout.write(`${JSON.stringify({ level: 30, app: 'pixmill-api', msg: `tracing: spans go to ${tracing.endpoint}` })}\n`);
  process.stdout.write(
    `${JSON.stringify({ level: 30, app: 'pixmill-api', msg: `Pixmill API listening on ${config.http.publicBaseUrl} (docs at ${config.http.publicBaseUrl}/docs)` })}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`pixmill-api failed to start: ${err?.stack ?? err}\n`);
  process.exit(1);
});
