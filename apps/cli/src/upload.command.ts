import { readFile } from 'node:fs/promises';
import { MultiBar, Presets } from 'cli-progress';
import Table from 'cli-table3';
import { glob } from 'tinyglobby';
import type { Image, TransformationSpec } from '@pixmill/sdk';
import { fileSource } from '@pixmill/sdk/node';
import { CliContext, CliExit } from './cli.context';
import { EXIT } from './exit-codes';

interface UploadRow {
  file: string;
  id?: string;
  width?: number;
  height?: number;
  bytes?: number;
  eagerJobs?: string[];
  error?: string;
  code?: string;
}

/** `pixmill upload <files/globs…>`: a progress bar per file, `--concurrency` at once, then a summary table. */
export async function uploadCommand(ctx: CliContext, patterns: string[], opts: { eager?: string; concurrency: string }): Promise<number> {
  const files = await glob(patterns, { absolute: false, onlyFiles: true, expandDirectories: false });
  if (files.length === 0) throw new CliExit(EXIT.usage, `no file matches ${patterns.join(' ')}`);
  let eager: TransformationSpec[] | undefined;
  if (opts.eager) {
    try {
      const parsed = JSON.parse(await readFile(opts.eager, 'utf8'));
      eager = Array.isArray(parsed) ? parsed : [parsed];
    } catch (err) {
      throw new CliExit(EXIT.usage, `--eager ${opts.eager}: ${(err as Error).message}`);
    }
  }
  const concurrency = Math.max(1, Number(opts.concurrency) || 4);
  const px = ctx.client();
  const bars = !ctx.json && process.stderr.isTTY ? new MultiBar({ format: ' {bar} {percentage}% | {file}', hideCursor: true, clearOnComplete: false }, Presets.shades_classic) : undefined;
  const rows: UploadRow[] = [];
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++];
      const { data, options } = await fileSource(file);
      const bar = bars?.create(options.size ?? 1, 0, { file });
      try {
        const image: Image = await px.upload(data, { ...options, eager, onProgress: ({ loaded }) => bar?.update(loaded) });
        bar?.update(options.size ?? 1);
        rows.push({ file, id: image.id, width: image.width, height: image.height, bytes: image.bytes, eagerJobs: image.eagerJobs?.map((j) => j.jobId ?? '') });
        if (!bars) ctx.info(`uploaded ${file} → ${image.id}`);
      } catch (err) {
        const failure = CliContext.failure(err);
        rows.push({ file, error: failure.message, code: failure.code });
        if (!bars) ctx.info(`failed ${file}: ${failure.message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  bars?.stop();
  rows.sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file));
  const table = new Table({ head: ['file', 'image id', 'size', 'bytes', 'result'] });
  for (const r of rows) table.push([r.file, r.id ?? '', r.width ? `${r.width}×${r.height}` : '', r.bytes ?? '', r.error ?? 'ok']);
  ctx.print(rows, table.toString());
  return rows.some((r) => r.error) ? EXIT.failed : EXIT.ok;
}
