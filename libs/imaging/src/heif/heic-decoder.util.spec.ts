import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { ImageCorruptException, ImageTooLargeException } from '@pixmill/common';
import { probeImage, verifyDecodes } from '../probe/image-probe.util';
import { parseQuerySpec } from '../spec/query-spec.parser';
import { parseSpec } from '../spec/parse-spec.util';
import { render, renderMany, renderThumbnail } from '../render/render.pipeline';
import { configureSharp } from '../render/sharp-config.util';
import { pixel } from '../test/image.fixtures';
import { decodeHeic, isHeic } from './heic-decoder.util';

const fixture = (name: string) => readFileSync(join(__dirname, '../test/fixtures', name));
const heic = fixture('hevc-160x120.heic');
const opts = { inputFormat: 'heic' as const, maxInputPixels: 50_000_000, maxOutputPixels: 50_000_000 };

/** Red left half, blue right half, green square top left (as drawn before heif-enc). */
async function expectLayout(image: Buffer, width: number, height: number) {
  const at = async (fx: number, fy: number) => (await pixel(image, Math.floor(width * fx), Math.floor(height * fy))).slice(0, 3);
  const close = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]) <= 40);
  expect({ green: close(await at(0.04, 0.05), [0, 255, 0]) }).toEqual({ green: true });
  expect({ red: close(await at(0.25, 0.6), [255, 0, 0]) }).toEqual({ red: true });
  expect({ blue: close(await at(0.75, 0.6), [0, 0, 255]) }).toEqual({ blue: true });
}

beforeAll(() => configureSharp({ concurrency: 2, cacheMemoryMb: 32 }));

describe('HEIC (HEVC) decoding', () => {
  it('is needed: sharp alone cannot decode the pixels of these files', async () => {
    expect(isHeic(heic)).toBe(true);
    expect((await sharp(heic).metadata()).compression).toBe('hevc');
    await expect(sharp(heic).raw().toBuffer()).rejects.toThrow(/HEVC/);
  });

  it('probes from the header and verifies by decoding every pixel', async () => {
    const probe = await probeImage(heic, { maxInputPixels: 50_000_000, maxAnimationFrames: 100 });
    expect(probe).toMatchObject({ format: 'heic', mimeType: 'image/heic', width: 160, height: 120, pages: 1 });
    await expect(verifyDecodes(heic, { maxInputPixels: 50_000_000 })).resolves.toBeUndefined();
  });

  it('renders to JPEG (the default) and WebP with the right size and pixels', async () => {
    const jpeg = await render(heic, parseSpec({}), opts);
    expect([jpeg.format, jpeg.width, jpeg.height]).toEqual(['jpeg', 160, 120]);
    await expectLayout(jpeg.data, 160, 120);
    const webp = await render(heic, parseQuerySpec(new URLSearchParams('resize=80x&format=webp')), opts);
    const meta = await sharp(webp.data).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 80, 60]);
    await expectLayout(webp.data, 80, 60);
    const [a, b] = await renderMany(heic, [parseSpec({ output: { format: 'png' } }), parseSpec({ operations: [{ op: 'mirror' }] })], opts);
    await expectLayout(a.data, 160, 120);
    expect((await pixel(b.data, 150, 5)).slice(0, 2)).toEqual([expect.any(Number), expect.any(Number)]);
    expect((await pixel(b.data, 150, 5))[1]).toBeGreaterThan(200); // mirrored: the green square is top right
  });

  it('makes the listing thumbnail', async () => {
    const thumb = await renderThumbnail(heic, 'heic');
    expect([thumb.format, thumb.width, thumb.height]).toEqual(['webp', 160, 120]);
    await expectLayout(thumb.data, 160, 120);
  });

  it('refuses an image over the pixel limit from its header, and broken files as corrupt', async () => {
    await expect(decodeHeic(heic, { maxInputPixels: 160 * 120 - 1 })).rejects.toBeInstanceOf(ImageTooLargeException);
    await expect(render(heic, parseSpec({}), { ...opts, maxInputPixels: 1000 })).rejects.toBeInstanceOf(ImageTooLargeException);
    const truncated = heic.subarray(0, Math.floor(heic.length * 0.6));
    await expect(decodeHeic(truncated, { maxInputPixels: 50_000_000 })).rejects.toBeInstanceOf(ImageCorruptException);
    await expect(verifyDecodes(truncated, { maxInputPixels: 50_000_000 })).rejects.toBeInstanceOf(ImageCorruptException);
  });

  it('gives up on a decode past its deadline, as corrupt', async () => {
    await expect(decodeHeic(heic, { maxInputPixels: 50_000_000, timeoutSeconds: 0.001 })).rejects.toBeInstanceOf(ImageCorruptException);
  });

  it('applies the file’s own transformations only: EXIF orientation inside HEIF is not applied, as libvips does', async () => {
    const oriented = fixture('hevc-exif-orientation-6.heic');
    const probe = await probeImage(oriented, { maxInputPixels: 50_000_000, maxAnimationFrames: 100 });
    const out = await render(oriented, parseSpec({}), opts);
    // The probe (what the upload answers) and the render agree on the size.
    expect([out.width, out.height]).toEqual([probe.width, probe.height]);
  });
});
