import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { ImageCorruptException, ImageTooLargeException } from '@pixmill/common';
import { probeImage, verifyDecodes } from '../probe/image-probe.util';
import { parseQuerySpec } from '../spec/query-spec.parser';
import { parseSpec } from '../spec/parse-spec.util';
import { render, renderMany, renderThumbnail } from '../render/render.pipeline';
import { configureSharp } from '../render/sharp-config.util';
import { deltaE, pixel } from '../test/image.fixtures';
import { irot, nclx, withImageCopies, withPrimaryProperties, withPropertiesReplaced } from '@pixmill/testing';
import { decodableInput, decodeHeic, isHeic } from './heic-decoder.util';

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

  it('probes and verifies from the header, without decoding a pixel', async () => {
    const probe = await probeImage(heic, { maxInputPixels: 50_000_000, maxAnimationFrames: 100 });
    expect(probe).toMatchObject({ format: 'heic', mimeType: 'image/heic', width: 160, height: 120, pages: 1, orientation: null });
    await expect(verifyDecodes(heic, { maxInputPixels: 50_000_000 })).resolves.toBeUndefined();
    // The decoder's memory budget is checked from the header too.
    await expect(verifyDecodes(heic, { maxInputPixels: 50_000_000, heicMaxMemoryMb: 10 })).rejects.toBeInstanceOf(ImageTooLargeException);
    await expect(decodeHeic(heic, { maxInputPixels: 50_000_000, maxMemoryMb: 10 })).rejects.toBeInstanceOf(ImageTooLargeException);
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

  it('a collection of several images (a burst) renders its primary image as a still', async () => {
    const burst = withImageCopies(heic, 2);
    const out = await render(burst, parseQuerySpec(new URLSearchParams('format=webp')), opts);
    expect([out.format, out.width, out.height, out.pages]).toEqual(['webp', 160, 120, 1]);
    expect((await sharp(out.data).metadata()).pages ?? 1).toBe(1);
    await expectLayout(out.data, 160, 120);
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

  it('the RSS watchdog stops a decode that outgrows its budget: image_too_large, the thread ended, the process unharmed', async () => {
    // The header's estimate (~96 MB) passes the 1024 MB budget; the watchdog's own budget is lowered
    // below what starting the thread and libheif's module adds to the process, so it must act.
    const threads = () => readdirSync('/proc/self/task').length;
    await expect(decodeHeic(heic, { maxInputPixels: 50_000_000 })).resolves.toMatchObject({ width: 160, height: 120 });
    const before = threads();
    const stopped = decodeHeic(heic, { maxInputPixels: 50_000_000, watchdogMemoryMb: 1 });
    await expect(stopped).rejects.toBeInstanceOf(ImageTooLargeException);
    await expect(stopped).rejects.toMatchObject({ code: 'image_too_large', message: expect.stringMatching(/more memory to decode/) });
    // The decoding thread is gone (terminated, not left running), and decoding still works.
    expect(threads()).toBeLessThanOrEqual(before);
    await expect(decodeHeic(heic, { maxInputPixels: 50_000_000 })).resolves.toMatchObject({ width: 160, height: 120 });
    // Through the pipeline, as a job sees it.
    await expect(decodableInput(heic, { maxInputPixels: 50_000_000, watchdogMemoryMb: 1 })).rejects.toBeInstanceOf(ImageTooLargeException);
  });

  it('EXIF orientation without irot/imir: applied, so the photo is upright (size and pixels)', async () => {
    const oriented = fixture('hevc-exif-orientation-6.heic');
    const probe = await probeImage(oriented, { maxInputPixels: 50_000_000, maxAnimationFrames: 100 });
    expect(probe).toMatchObject({ width: 120, height: 160, orientation: 6 });
    const out = await render(oriented, parseSpec({ output: { format: 'png' } }), opts);
    expect([out.width, out.height]).toEqual([120, 160]);
    await expectUprightOrientation6(out.data);
    const thumb = await renderThumbnail(oriented, 'heic');
    expect([thumb.width, thumb.height]).toEqual([120, 160]);
    await expectUprightOrientation6(thumb.data);
  });

  it('irot: applied once by libheif, and an EXIF orientation next to it is not applied again', async () => {
    // irot 1 = 90° counter-clockwise: the green square goes bottom left, red to the bottom half.
    const rotated = withPrimaryProperties(heic, [irot(1)]);
    const probe = await probeImage(rotated, { maxInputPixels: 50_000_000, maxAnimationFrames: 100 });
    expect(probe).toMatchObject({ width: 120, height: 160, orientation: null });
    const out = await render(rotated, parseSpec({ output: { format: 'png' } }), opts);
    expect([out.width, out.height]).toEqual([120, 160]);
    const at = async (x: number, y: number) => (await pixel(out.data, x, y)).slice(0, 3);
    expect(near(await at(5, 155), [0, 255, 0])).toBe(true);
    expect(near(await at(60, 120), [255, 0, 0])).toBe(true);
    expect(near(await at(60, 40), [0, 0, 255])).toBe(true);

    // As phones write it: irot 3 (90° clockwise) and EXIF orientation 6 saying the same thing.
    const both = withPrimaryProperties(fixture('hevc-exif-orientation-6.heic'), [irot(3)]);
    expect(await probeImage(both, { maxInputPixels: 50_000_000, maxAnimationFrames: 100 })).toMatchObject({ width: 120, height: 160 });
    const once = await render(both, parseSpec({ output: { format: 'png' } }), opts);
    expect([once.width, once.height]).toEqual([120, 160]);
    await expectUprightOrientation6(once.data);
    const many = await renderMany(both, [parseSpec({ output: { format: 'png' } }), parseSpec({ output: { format: 'webp' } })], opts);
    await expectUprightOrientation6(many[0].data);
  });

  it('keeps the file’s ICC profile: a Display P3 HEIC converts to sRGB from it', async () => {
    const p3 = fixture('hevc-p3.heic');
    expect(await probeImage(p3, { maxInputPixels: 50_000_000, maxAnimationFrames: 100 })).toMatchObject({ hasIccProfile: true });
    const out = await render(p3, parseSpec({ output: { format: 'png' } }), opts);
    const got = (await pixel(out.data, 32, 32)).slice(0, 3);
    // Made from sRGB 32,200,40 converted to Display P3 by libvips (stored 95,197,70): converted back, it is that green again.
    const srgb = [32, 200, 40];
    expect(deltaE(got, srgb)).toBeLessThan(3);
    const kept = await render(p3, parseQuerySpec(new URLSearchParams('keepProfile=true&format=png')), opts);
    expect((await sharp(kept.data).metadata()).icc?.length).toBeGreaterThan(0);
    const stored = (await sharp(kept.data, { ignoreIcc: true }).raw().toBuffer()).subarray(0, 3);
    expect(deltaE([...stored], srgb)).toBeGreaterThan(8); // a dropped profile would show these P3 numbers
  });

  it('an nclx with Display P3 primaries (12) and no ICC profile, as phones write it: converted to sRGB from P3; keepProfile keeps P3', async () => {
    // Red and green patches stored as Display P3 numbers (sRGB 200,40,40 → P3 184,56,49; sRGB 40,180,60 →
    // P3 88,177,77), with a colr nclx added: P3 primaries, sRGB transfer (13), BT.601 matrix (6), full
    // range, as heif-enc encoded them. Taken as sRGB, the stored numbers would be ΔE > 8 off.
    const patches = withPrimaryProperties(fixture('hevc-p3-patches.heic'), [nclx(12, 13, 6, true)]);
    expect(await probeImage(patches, { maxInputPixels: 50_000_000, maxAnimationFrames: 100 })).toMatchObject({ format: 'heic', hasIccProfile: false });
    const red = { srgb: [200, 40, 40], p3: [184, 56, 49], at: [16, 32] };
    const green = { srgb: [40, 180, 60], p3: [88, 177, 77], at: [48, 32] };
    for (const patch of [red, green]) expect(deltaE(patch.p3, patch.srgb)).toBeGreaterThan(8);
    const sample = async (image: Buffer, [x, y]: number[], scale = 1) => (await pixel(image, x * scale, y * scale)).slice(0, 3);
    for (const [out, scale] of [
      [await render(patches, parseSpec({ output: { format: 'png' } }), opts), 1],
      [await render(patches, parseQuerySpec(new URLSearchParams('resize=32x&format=webp&quality=100')), opts), 0.5],
      [await renderThumbnail(patches, 'heic'), 1],
    ] as const) {
      expect((await sharp(out.data).metadata()).icc).toBeUndefined();
      for (const patch of [red, green]) {
        const got = await sample(out.data, patch.at, scale);
        expect({ format: out.format, got, close: deltaE(got, patch.srgb) < 3 }).toEqual({ format: out.format, got, close: true });
      }
    }
    const kept = await render(patches, parseQuerySpec(new URLSearchParams('keepProfile=true&format=png')), opts);
    const icc = (await sharp(kept.data).metadata()).icc;
    expect(icc && iccDescription(icc)).toMatch(/P3/);
    const asStored = await sharp(kept.data, { ignoreIcc: true }).png().toBuffer();
    const asSrgb = await sharp(kept.data).toColourspace('srgb').png().toBuffer();
    for (const patch of [red, green]) {
      expect(deltaE(await sample(asStored, patch.at), patch.p3)).toBeLessThan(3); // the P3 numbers are kept
      expect(deltaE(await sample(asSrgb, patch.at), patch.srgb)).toBeLessThan(3); // and read through the kept profile, the colours
    }

    // The same HEVC pixels as hevc-p3.heic, its colr prof replaced by that nclx: the same sRGB colour as from the ICC profile.
    const p3 = withPropertiesReplaced(fixture('hevc-p3.heic'), 'colr', () => nclx(12, 13, 6, true));
    expect(await probeImage(p3, { maxInputPixels: 50_000_000, maxAnimationFrames: 100 })).toMatchObject({ hasIccProfile: false });
    const fromNclx = await render(p3, parseSpec({ output: { format: 'png' } }), opts);
    const fromIcc = await render(fixture('hevc-p3.heic'), parseSpec({ output: { format: 'png' } }), opts);
    expect(deltaE(await sample(fromNclx.data, [32, 32]), await sample(fromIcc.data, [32, 32]))).toBeLessThan(1);
    expect(deltaE(await sample(fromNclx.data, [32, 32]), [32, 200, 40])).toBeLessThan(3);

    // Other nclx primaries (BT.709, 1) are sRGB's: the numbers are taken as they are.
    const bt709 = withPrimaryProperties(fixture('hevc-p3-patches.heic'), [nclx(1, 13, 6, true)]);
    const plain = await render(bt709, parseSpec({ output: { format: 'png' } }), opts);
    expect(deltaE(await sample(plain.data, red.at), red.p3)).toBeLessThan(3);
  });
});

/** The description (ICC v2 `desc` or v4 `mluc`) of an ICC profile. */
function iccDescription(icc: Buffer): string {
  const count = icc.readUInt32BE(128);
  for (let i = 0; i < count; i++) {
    const at = 132 + i * 12;
    if (icc.toString('latin1', at, at + 4) !== 'desc') continue;
    const offset = icc.readUInt32BE(at + 4);
    const type = icc.toString('latin1', offset, offset + 4);
    if (type === 'desc') return icc.toString('latin1', offset + 12, offset + 12 + icc.readUInt32BE(offset + 8) - 1);
    if (type === 'mluc') {
      const length = icc.readUInt32BE(offset + 20);
      const start = offset + icc.readUInt32BE(offset + 24);
      return icc.subarray(start, start + length).swap16().toString('utf16le');
    }
  }
  return '';
}

const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]) <= 40);

/** The 160×120 layout after orientation 6 (90° clockwise): 120×160, green square top right, red top, blue bottom. */
async function expectUprightOrientation6(image: Buffer) {
  const at = async (x: number, y: number) => (await pixel(image, x, y)).slice(0, 3);
  expect({ green: near(await at(114, 5), [0, 255, 0]) }).toEqual({ green: true });
  expect({ red: near(await at(60, 40), [255, 0, 0]) }).toEqual({ red: true });
  expect({ blue: near(await at(60, 120), [0, 0, 255]) }).toEqual({ blue: true });
}
