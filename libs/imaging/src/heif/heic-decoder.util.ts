import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { ImageCorruptException, ImageTooLargeException } from '@pixmill/common';
import { DEFAULT_PIPELINE_TIMEOUT_SECONDS } from '../probe/decode-policy';
import { sniffImageType } from '../probe/image-sniff.util';
import { HeifHeader, parseHeifHeader } from './heif-header.parser';
import { rawTiff } from './raw-tiff.util';

export interface HeicDecodeLimits {
  /** MAX_INPUT_PIXELS: checked on the header (ispe) before any pixel is decoded. */
  maxInputPixels: number;
  timeoutSeconds?: number;
  /** Heap of the decoding thread (JavaScript objects only: the WebAssembly memory is outside it). */
  maxHeapMb?: number;
  /**
   * What one decode may add to the process's memory, WebAssembly heap included (default 1024 MB):
   * an image whose decode needs more by its header is refused before decoding, and a decode that
   * grows the process's RSS past it is stopped.
   */
  maxMemoryMb?: number;
  /**
   * The RSS growth at which the watchdog stops a decode (default: maxMemoryMb). Lowered only by
   * tests, so that a real decode outgrows it while the header's estimate still passes.
   */
  watchdogMemoryMb?: number;
}

/** Bytes a decode holds at its peak, from the header: coded YUV planes (16 bit above 8), the RGBA output, the input, the module and the thread (measured: 221 MB added for a 12 MP file, estimated 218). */
export function heicDecodeBytes(header: Pick<HeifHeader, 'codedWidth' | 'codedHeight'>, inputBytes: number): number {
  const pixels = header.codedWidth * header.codedHeight;
  return Math.ceil(pixels * (3 * 2 + 4) + inputBytes * 2 + 96 * 1024 * 1024);
}

/**
 * The decoding thread. libheif (with libde265 for HEVC) compiled to WebAssembly,
 * from the `libheif-js` package: no system library, nothing to build, so a plain
 * `npm ci` is enough. It parses the file, refuses an image over the pixel limit
 * from its header, then decodes the primary image to 8-bit RGBA with its
 * transformations (irot, imir, clap) applied, and hands the pixels back.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fail = (kind, message) => parentPort.postMessage({ error: { kind, message } });
try {
  const libheif = require(workerData.libheifPath);
  const images = new libheif.HeifDecoder().decode(workerData.input);
  if (!images || images.length === 0) {
    fail('corrupt', 'no image in the HEIF file');
  } else {
    const image = images[0];
    const width = image.get_width();
    const height = image.get_height();
    if (!(width > 0 && height > 0)) fail('corrupt', 'the image has no dimensions');
    else if (width * height > workerData.maxInputPixels) fail('too_large', 'the image has ' + width * height + ' pixels');
    else {
      image.display({ data: new Uint8ClampedArray(width * height * 4), width, height }, (out) => {
        if (!out) return fail('corrupt', 'HEVC decoding failed');
        const data = new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.length);
        parentPort.postMessage({ width, height, data }, [data.buffer]);
      });
    }
  }
} catch (e) {
  fail('corrupt', String((e && e.message) || e).split('\\n')[0].slice(0, 120));
}
`;

/** True when the bytes are HEIF with the HEVC codec (HEIC): what sharp's prebuilt libvips cannot decode. */
export function isHeic(input: Buffer): boolean {
  return sniffImageType(input.subarray(0, 64))?.format === 'heic';
}

const WATCHDOG_INTERVAL_MS = 50;

/**
 * Decodes an HEIC image (HEVC) to raw 8-bit RGBA in a worker thread with a heap
 * limit, a memory budget and a deadline: a hostile file can exhaust or hang that
 * thread, not the process. The header is parsed first (plain TypeScript): the
 * pixel limit and the memory the decode will need are checked before any pixel
 * is decoded. While it decodes, a watchdog samples the process's RSS (the
 * WebAssembly heap is outside the thread's resourceLimits) and stops the thread
 * past the budget. libheif applies the file's transformations (irot, imir, clap).
 * Throws ImageTooLargeException or ImageCorruptException (or
 * UnsupportedMediaTypeException from the header) only.
 */
export async function decodeHeic(
  input: Buffer,
  limits: HeicDecodeLimits,
  header?: HeifHeader,
): Promise<{ data: Buffer; width: number; height: number }> {
  header ??= await parseHeifHeader(input, { maxInputPixels: limits.maxInputPixels });
  const budget = (limits.maxMemoryMb ?? 1024) * 1024 * 1024;
  const needed = heicDecodeBytes(header, input.length);
  if (needed > budget) {
    throw new ImageTooLargeException(
      `Decoding the image needs about ${Math.round(needed / 1048576)} MB; the limit is ${Math.round(budget / 1048576)} MB.`,
    );
  }
  const timeoutMs = (limits.timeoutSeconds ?? DEFAULT_PIPELINE_TIMEOUT_SECONDS) * 1000;
  const watchdogBudget = limits.watchdogMemoryMb === undefined ? budget : limits.watchdogMemoryMb * 1024 * 1024;
  const baseline = process.memoryUsage.rss();
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      libheifPath: require.resolve('libheif-js/wasm-bundle'),
      input: new Uint8Array(input.buffer, input.byteOffset, input.length),
      maxInputPixels: limits.maxInputPixels,
    },
    resourceLimits: { maxOldGenerationSizeMb: limits.maxHeapMb ?? 256 },
    // libheif's own chatter (it prints the errors it throws) is not our log: both streams are drained and dropped.
    stdout: true,
    stderr: true,
  });
  worker.stdout?.resume();
  worker.stderr?.resume();
  let timer: NodeJS.Timeout | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  try {
    const message = await new Promise<{ width: number; height: number; data: Uint8Array; error?: { kind: string; message: string } }>(
      (resolve, reject) => {
        timer = setTimeout(() => reject(new ImageCorruptException('The image took too long to decode.')), timeoutMs);
        watchdog = setInterval(() => {
          if (process.memoryUsage.rss() - baseline > watchdogBudget) {
            reject(new ImageTooLargeException('The image needs more memory to decode than allowed.'));
          }
        }, WATCHDOG_INTERVAL_MS);
        worker.once('message', resolve);
        worker.once('error', (e) => {
          reject(
            /ERR_WORKER_OUT_OF_MEMORY|out of memory/i.test(`${(e as NodeJS.ErrnoException).code} ${e.message}`)
              ? new ImageTooLargeException('The image needs more memory to decode than allowed.')
              : new ImageCorruptException('The image cannot be decoded.'),
          );
        });
        worker.once('exit', (code) => {
          reject(new ImageCorruptException(`The image cannot be decoded (the decoder stopped, ${code}).`));
        });
      },
    );
    if (message.error) {
      if (message.error.kind === 'too_large') {
        throw new ImageTooLargeException(`The image has more pixels than allowed (${message.error.message}).`);
      }
      throw new ImageCorruptException(`The image cannot be decoded: ${message.error.message}.`);
    }
    return { data: Buffer.from(message.data.buffer, message.data.byteOffset, message.data.length), width: message.width, height: message.height };
  } finally {
    clearTimeout(timer);
    clearInterval(watchdog);
    await worker.terminate();
  }
}

/**
 * An HEIC input as something sharp decodes: an uncompressed TIFF of its pixels
 * (RGB, or RGBA when the file has an alpha plane), upright after the file's own
 * transformations, tagged with the file's colour profile (its ICC profile, or
 * Display P3 for an nclx with P3 primaries) so that the sRGB conversion of
 * decision 029 starts from the right colours, and with the EXIF orientation as
 * its TIFF orientation when the file has no irot/imir (never both: libheif has
 * already applied those). Any other input is returned as is.
 */
export async function decodableInput(input: Buffer, limits: HeicDecodeLimits): Promise<Buffer> {
  if (!isHeic(input)) return input;
  const header = await parseHeifHeader(input, { maxInputPixels: limits.maxInputPixels });
  const { data, width, height } = await decodeHeic(input, limits, header);
  return rawTiff(data, width, height, {
    alpha: header.hasAlpha,
    icc: header.icc ?? (await nclxProfile(header.nclx)),
    orientation: header.hasTransform ? 1 : (header.exifOrientation ?? 1),
  });
}

let p3Profile: Promise<Buffer | null> | undefined;
/** An ICC profile for the nclx colours Pixmill converts: P3 primaries (12, as phones write) get libvips's Display P3. */
async function nclxProfile(nclx: HeifHeader['nclx']): Promise<Buffer | null> {
  if (!nclx || nclx.primaries !== 12) return null; // BT.709 primaries (1) are sRGB's; others are treated as sRGB
  p3Profile ??= sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } })
    .withIccProfile('p3')
    .png()
    .toBuffer()
    .then(async (png) => (await sharp(png).metadata()).icc ?? null);
  return p3Profile;
}
