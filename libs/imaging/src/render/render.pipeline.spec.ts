import sharp from 'sharp';
import { ImageCorruptException, ImageTooLargeException } from '@pixmill/common';
import { parseSpec } from '../spec/parse-spec.util';
import { InputFormat } from '../spec/transformation-spec.types';
import { animatedGif, gradientJpeg, noise, pixel, twoColour } from '../test/image.fixtures';
import { RenderSpecException } from './render-spec.exception';
import { AVIF_COMPRESS_MAX_PIXELS, avifEffort, RenderOptions, render, renderMany, renderThumbnail } from './render.pipeline';
import { configureSharp } from './sharp-config.util';

const opts = (inputFormat: InputFormat, extra: Partial<RenderOptions> = {}): RenderOptions => ({
  inputFormat,
  maxInputPixels: 50_000_000,
  maxOutputPixels: 50_000_000,
  ...extra,
});
const run = (input: Buffer, body: unknown, inputFormat: InputFormat = 'png', extra: Partial<RenderOptions> = {}) =>
  render(input, parseSpec(body), opts(inputFormat, extra));

/** Sum of absolute differences of two same-size images in a region (RGB). */
async function regionDiff(a: Buffer, b: Buffer, region: { left: number; top: number; width: number; height: number }) {
  const [ra, rb] = await Promise.all(
    [a, b].map((x) => sharp(x).extract(region).removeAlpha().raw().toBuffer()),
  );
  let sum = 0;
  for (let i = 0; i < ra.length; i++) sum += Math.abs(ra[i] - rb[i]);
  return sum;
}

beforeAll(() => configureSharp({ concurrency: 2, cacheMemoryMb: 32 }));

describe('render', () => {
  it('resizes in one pass and reports the output', async () => {
    const input = await gradientJpeg(400, 200);
    const out = await run(input, { operations: [{ op: 'resize', width: 100 }] }, 'jpeg');
    expect(out).toMatchObject({ format: 'jpeg', mimeType: 'image/jpeg', width: 100, height: 50, pages: 1 });
    expect(out.bytes).toBe(out.data.length);
    const meta = await sharp(out.data).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 100, 50]);
  });

  it.each(['jpeg', 'png', 'webp', 'avif', 'gif'] as const)('writes %s, plain and compressed', async (format) => {
    const input = await noise(64, 48);
    for (const compress of [false, true]) {
      const out = await run(input, { operations: [{ op: 'resize', width: 32 }], output: { format, compress, quality: 60 } });
      const meta = await sharp(out.data).metadata();
      expect(meta.format).toBe(format === 'avif' ? 'heif' : format);
      expect([meta.width, meta.height]).toEqual([32, 24]);
    }
  });

  it('supports every resize fit and scale', async () => {
    const input = await noise(200, 100);
    const size = async (op: object) => {
      const out = await run(input, { operations: [{ op: 'resize', ...op }] });
      return [out.width, out.height];
    };
    expect(await size({ width: 50, height: 50 })).toEqual([50, 25]); // inside (default)
    expect(await size({ width: 50, height: 50, fit: 'cover' })).toEqual([50, 50]);
    expect(await size({ width: 50, height: 50, fit: 'contain', background: '#ff0000' })).toEqual([50, 50]);
    expect(await size({ width: 50, height: 50, fit: 'fill' })).toEqual([50, 50]);
    expect(await size({ width: 50, height: 50, fit: 'outside' })).toEqual([100, 50]);
    expect(await size({ height: 20 })).toEqual([40, 20]);
    expect(await size({ scale: 25 })).toEqual([50, 25]);
    expect(await size({ width: 400, withoutEnlargement: true })).toEqual([200, 100]);
  });

  it('auto-orients from EXIF first and strips EXIF/GPS from the output while keeping ICC', async () => {
    const input = await sharp(await twoColour(60, 40))
      .withExif({ IFD0: { Make: 'Pixmill' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '10/1 0/1 0/1' } })
      .withMetadata({ orientation: 6 })
      .withIccProfile('p3')
      .jpeg({ quality: 95 })
      .toBuffer();
    const before = await sharp(input).metadata();
    expect([before.orientation, before.width, before.exif !== undefined, before.hasProfile]).toEqual([6, 60, true, true]);
    for (const operations of [[], [{ op: 'resize', width: 20 }], [{ op: 'grayscale' }, { op: 'flip' }]]) {
      const out = await run(input, { operations }, 'jpeg');
      const meta = await sharp(out.data).metadata();
      expect(meta.width! < meta.height!).toBe(true); // rotated to portrait
      expect(meta.orientation).toBeUndefined();
      expect(meta.exif).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
      expect(meta.hasProfile).toBe(true);
    }
    // orientation 6 = rotate 90° clockwise: the left (red) half ends up on top
    const upright = await run(input, {}, 'jpeg');
    const [r, , b] = await pixel(upright.data, 20, 5);
    expect(r).toBeGreaterThan(200);
    expect(b).toBeLessThan(60);
  });

  it('grayscale gives r = g = b', async () => {
    const out = await run(await noise(40, 40), { operations: [{ op: 'grayscale' }], output: { format: 'png' } });
    const [r, g, b] = await pixel(out.data, 17, 23);
    expect(r).toBe(g);
    expect(g).toBe(b);
  });

  it('sepia tints grey to r > g > b', async () => {
    const grey = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#646464' } }).png().toBuffer();
    const out = await run(grey, { operations: [{ op: 'sepia' }] });
    const [r, g, b] = await pixel(out.data, 10, 10);
    expect(r).toBeGreaterThan(g);
    expect(g).toBeGreaterThan(b);
  });

  it('flip swaps top and bottom, mirror left and right, rotate turns', async () => {
    const topRed = await twoColour(40, 20, true); // top red, bottom blue
    const leftRed = await twoColour(40, 20); // left red, right blue
    const isBlue = async (img: Buffer, x: number, y: number) => {
      const [r, , b] = await pixel(img, x, y);
      return b > 200 && r < 50;
    };
    expect(await isBlue((await run(topRed, { operations: [{ op: 'flip' }] })).data, 20, 2)).toBe(true);
    expect(await isBlue((await run(leftRed, { operations: [{ op: 'mirror' }] })).data, 2, 10)).toBe(true);
    const r180 = await run(leftRed, { operations: [{ op: 'rotate', angle: 180 }] });
    expect(await isBlue(r180.data, 2, 10)).toBe(true);
    const r90 = await run(leftRed, { operations: [{ op: 'rotate', angle: 90 }] });
    expect([r90.width, r90.height]).toEqual([20, 40]);
    expect(await isBlue(r90.data, 10, 38)).toBe(true); // right half went to the bottom
    const r45 = await run(leftRed, { operations: [{ op: 'rotate', angle: 45, background: '#00ff00' }] });
    expect(r45.width).toBeGreaterThan(40);
    const [r, g] = await pixel(r45.data, 0, 0);
    expect(g).toBeGreaterThan(200);
    expect(r).toBeLessThan(50);
  });

  it('crops explicit regions and by gravity, and refuses a region outside the image', async () => {
    const input = await noise(100, 80);
    const explicit = await run(input, { operations: [{ op: 'crop', x: 10, y: 20, width: 30, height: 40 }] });
    expect([explicit.width, explicit.height]).toEqual([30, 40]);
    for (const gravity of ['center', 'northeast', 'attention', 'entropy']) {
      const out = await run(input, { operations: [{ op: 'crop', width: 50, height: 50, gravity }] });
      expect([out.width, out.height]).toEqual([50, 50]);
    }
    const outside = run(input, { operations: [{ op: 'crop', x: 90, y: 0, width: 20, height: 10 }] });
    await expect(outside).rejects.toBeInstanceOf(RenderSpecException);
    await expect(outside).rejects.toMatchObject({ status: 422, code: 'spec_not_applicable' });
  });

  it('applies blur, sharpen, modulate and contrast in order', async () => {
    const input = await gradientJpeg(80, 60);
    const stdev = async (img: Buffer) => (await sharp(img).stats()).channels[0].stdev;
    const plain = await run(input, { output: { format: 'png' } }, 'jpeg');
    const contrasted = await run(input, { operations: [{ op: 'contrast', factor: 2 }], output: { format: 'png' } }, 'jpeg');
    expect(await stdev(contrasted.data)).toBeGreaterThan(await stdev(plain.data));
    const chain = await run(
      input,
      {
        operations: [
          { op: 'blur', sigma: 2 },
          { op: 'sharpen' },
          { op: 'sharpen', sigma: 1 },
          { op: 'modulate', brightness: 1.5, saturation: 0.5, hue: 90 },
          { op: 'resize', width: 40 },
        ],
      },
      'jpeg',
    );
    expect([chain.width, chain.height]).toEqual([40, 30]);
    const darker = await run(input, { operations: [{ op: 'modulate', brightness: 0.2 }], output: { format: 'png' } }, 'jpeg');
    expect((await sharp(darker.data).stats()).channels[0].mean).toBeLessThan((await sharp(plain.data).stats()).channels[0].mean);
  });

  it('puts a text watermark in its gravity corner only', async () => {
    const input = await noise(200, 100);
    const plain = await run(input, {});
    const marked = await run(input, { operations: [{ op: 'watermark', text: 'Pixmill <&> ©', opacity: 1, size: 40 }] });
    expect([marked.width, marked.height]).toEqual([200, 100]);
    expect(await regionDiff(plain.data, marked.data, { left: 100, top: 50, width: 100, height: 50 })).toBeGreaterThan(1000);
    expect(await regionDiff(plain.data, marked.data, { left: 0, top: 0, width: 100, height: 50 })).toBe(0);
  });

  it('puts an image watermark, scaled and with opacity, at its gravity', async () => {
    const input = await noise(200, 100);
    const id = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
    const logo = await sharp({ create: { width: 50, height: 50, channels: 3, background: '#ff0000' } }).png().toBuffer();
    const plain = await run(input, {});
    const marked = await run(
      input,
      { operations: [{ op: 'watermark', imageId: id, gravity: 'northwest', opacity: 0.5, size: 20 }] },
      'png',
      { watermarkImages: { [id]: logo } },
    );
    expect(await regionDiff(plain.data, marked.data, { left: 0, top: 0, width: 60, height: 50 })).toBeGreaterThan(1000);
    expect(await regionDiff(plain.data, marked.data, { left: 100, top: 50, width: 100, height: 50 })).toBe(0);
    // 20% of 200 px = 40 px wide, 2% margin = 4 px: (10, 10) is inside, half-transparent red over noise
    const [r] = await pixel(marked.data, 10, 10);
    const [r0] = await pixel(plain.data, 10, 10);
    expect(r).toBeCloseTo(Math.round(r0 / 2 + 255 / 2), -1);
    await expect(
      run(input, { operations: [{ op: 'watermark', imageId: id }] }),
    ).rejects.toBeInstanceOf(RenderSpecException);
  });

  it('keeps animation for GIF → WebP and GIF → GIF, and takes the first frame otherwise', async () => {
    const gif = await animatedGif(4, 40, 30);
    for (const format of ['webp', 'gif'] as const) {
      const out = await run(gif, { operations: [{ op: 'resize', width: 20 }, { op: 'grayscale' }], output: { format } }, 'gif');
      const meta = await sharp(out.data).metadata();
      expect([meta.format, meta.pages, meta.width, meta.height]).toEqual([format, 4, 20, 15]);
      expect(out).toMatchObject({ pages: 4, width: 20, height: 15 });
      expect(meta.delay).toEqual([100, 100, 100, 100]);
    }
    const still = await run(gif, { output: { format: 'png' } }, 'gif');
    const meta = await sharp(still.data).metadata();
    expect([meta.pages ?? 1, meta.width, meta.height]).toEqual([1, 40, 30]);
    // frames keep their own content: frame 0 red, frame 1 green
    const frames = await sharp((await run(gif, {}, 'gif')).data, { animated: true }).raw().toBuffer({ resolveWithObject: true });
    const frameBytes = 40 * 30 * frames.info.channels;
    expect(frames.data[0]).toBeGreaterThan(200);
    expect(frames.data[frameBytes + 1]).toBeGreaterThan(200);
  });

  it('refuses outputs over 8192 px a side or over MAX_OUTPUT_PIXELS', async () => {
    const wide = await sharp({ create: { width: 2100, height: 4, channels: 3, background: '#123456' } }).png().toBuffer();
    await expect(run(wide, { operations: [{ op: 'resize', scale: 400 }] })).rejects.toBeInstanceOf(ImageTooLargeException);
    const input = await noise(100, 100);
    await expect(run(input, {}, 'png', { maxOutputPixels: 9999 })).rejects.toBeInstanceOf(ImageTooLargeException);
    await expect(run(input, { operations: [{ op: 'resize', width: 50 }] }, 'png', { maxOutputPixels: 9999 })).resolves.toMatchObject({ width: 50 });
  });

  it('maps a truncated JPEG to ImageCorruptException', async () => {
    const jpeg = await sharp(await noise(128, 128)).jpeg().toBuffer();
    await expect(run(jpeg.subarray(0, jpeg.length >> 1), {}, 'jpeg')).rejects.toBeInstanceOf(ImageCorruptException);
    await expect(run(Buffer.from('not an image'), {}, 'jpeg')).rejects.toBeInstanceOf(ImageCorruptException);
  });
});

describe('renderThumbnail / renderMany', () => {
  it('makes a 256 px WebP of the first frame', async () => {
    const thumb = await renderThumbnail(await gradientJpeg(1000, 500), 'jpeg');
    expect(thumb).toMatchObject({ format: 'webp', width: 256, height: 128, mimeType: 'image/webp' });
    const animated = await renderThumbnail(await animatedGif(3, 40, 30), 'gif');
    const meta = await sharp(animated.data).metadata();
    expect([meta.format, meta.pages ?? 1, meta.width]).toEqual(['webp', 1, 40]); // never enlarged
  });

  it('renders sibling outputs from one decode, in order', async () => {
    const input = await gradientJpeg(300, 200);
    const results = await renderMany(
      input,
      [parseSpec({ operations: [{ op: 'resize', width: 100 }] }), parseSpec({ operations: [{ op: 'rotate', angle: 90 }], output: { format: 'webp' } })],
      opts('jpeg'),
    );
    expect(results.map((r) => [r.format, r.width, r.height])).toEqual([
      ['jpeg', 100, 67],
      ['webp', 200, 300],
    ]);
  });
});

describe('render on tiny images', () => {
  it('fits a watermark on a 1 px high and a 1x1 image', async () => {
    for (const [w, h] of [[300, 1], [1, 1], [3, 2]]) {
      const input = await sharp({ create: { width: w, height: h, channels: 3, background: '#000' } }).png().toBuffer();
      const out = await render(input, parseSpec({ operations: [{ op: 'watermark', text: 'Hello' }] }), opts('png'));
      expect([out.width, out.height]).toEqual([w, h]);
    }
  });
});

describe('avifEffort', () => {
  it('compresses harder only up to AVIF_COMPRESS_MAX_PIXELS of output, where effort 4 still takes seconds, not minutes', () => {
    expect(avifEffort(false, 640 * 480)).toBe(3);
    expect(avifEffort(true, 640 * 480)).toBe(4);
    expect(avifEffort(true, AVIF_COMPRESS_MAX_PIXELS)).toBe(4);
    expect(avifEffort(true, AVIF_COMPRESS_MAX_PIXELS + 1)).toBe(3);
    expect(avifEffort(false, 8000 * 6000)).toBe(3);
  });
});
