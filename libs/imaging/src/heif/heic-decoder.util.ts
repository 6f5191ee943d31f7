import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { ImageCorruptException, ImageTooLargeException } from '@pixmill/common';
import { DEFAULT_PIPELINE_TIMEOUT_SECONDS } from '../probe/decode-policy';
import { sniffImageType } from '../probe/image-sniff.util';

export interface HeicDecodeLimits {
  /** MAX_INPUT_PIXELS: checked on the header (ispe) before any pixel is decoded. */
  maxInputPixels: number;
  timeoutSeconds?: number;
  /** Heap of the decoding thread (the WebAssembly memory grows on top of it, by the image's RGBA size). */
  maxHeapMb?: number;
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

/**
 * Decodes an HEIC image (HEVC) to raw 8-bit RGBA in a worker thread with a heap
 * limit and a deadline: a hostile file can exhaust or hang that thread, not the
 * process. Orientation is the file's own transformations (irot/imir), applied by
 * libheif, as libvips does; EXIF orientation inside HEIF is not applied (HEIF
 * readers must not, and sharp's metadata of HEIF reports none).
 * Throws ImageTooLargeException or ImageCorruptException only.
 */
export async function decodeHeic(
  input: Buffer,
  limits: HeicDecodeLimits,
): Promise<{ data: Buffer; width: number; height: number }> {
  const timeoutMs = (limits.timeoutSeconds ?? DEFAULT_PIPELINE_TIMEOUT_SECONDS) * 1000;
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
  try {
    const message = await new Promise<{ width: number; height: number; data: Uint8Array; error?: { kind: string; message: string } }>(
      (resolve, reject) => {
        const timer = setTimeout(() => reject(new ImageCorruptException('The image took too long to decode.')), timeoutMs);
        worker.once('message', (m) => {
          clearTimeout(timer);
          resolve(m);
        });
        worker.once('error', (e) => {
          clearTimeout(timer);
          reject(
            /ERR_WORKER_OUT_OF_MEMORY|out of memory/i.test(`${(e as NodeJS.ErrnoException).code} ${e.message}`)
              ? new ImageTooLargeException('The image needs more memory to decode than allowed.')
              : new ImageCorruptException('The image cannot be decoded.'),
          );
        });
        worker.once('exit', (code) => {
          clearTimeout(timer);
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
    await worker.terminate();
  }
}

/**
 * An HEIC input as something sharp decodes: an uncompressed TIFF of its RGBA pixels
 * (alpha dropped when opaque), already upright. Any other input is returned as is.
 */
export async function decodableInput(input: Buffer, limits: HeicDecodeLimits): Promise<Buffer> {
  if (!isHeic(input)) return input;
  const { data, width, height } = await decodeHeic(input, limits);
  const image = sharp(data, { raw: { width, height, channels: 4 } });
  const opaque = (await image.stats()).channels[3].min === 255;
  return (opaque ? image.removeAlpha() : image).tiff({ compression: 'none' }).toBuffer();
}
