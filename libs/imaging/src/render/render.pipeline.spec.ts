import sharp from 'sharp';
import { ImageCorruptException, ImageTooLargeException } from '@pixmill/common';
import { parseSpec } from '../spec/parse-spec.util';
import { parseQuerySpec } from '../spec/query-spec.parser';
import { InputFormat } from '../spec/transformation-spec.types';
import { animatedGif, gradientJpeg, greyWithDetail, noise, pixel, redBlueGreenCentre, twoColour } from '../test/image.fixtures';
import { RenderSpecException } from './render-spec.exception';
import { AVIF_COMPRESS_MAX_PIXELS, avifEffort, checkSpecFits, RenderOptions, render, renderMany, renderThumbnail } from './render.pipeline';
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

  it('auto-orients from EXIF first and strips EXIF/GPS from the output; the ICC profile only with keepProfile', async () => {
    const input = await sharp(await twoColour(60, 40))
      .withExif({ IFD0: { Make: 'Pixmill' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '10/1 0/1 0/1' } })
      .withMetadata({ orientation: 6 })
      .withIccProfile('p3')
      .jpeg({ quality: 95 })
      .toBuffer();
    const before = await sharp(input).metadata();
    expect([before.orientation, before.width, before.exif !== undefined, before.hasProfile]).toEqual([6, 60, true, true]);
    for (const operations of [[], [{ op: 'resize', width: 20 }], [{ op: 'grayscale' }, { op: 'flip' }]]) {
      for (const keepProfile of [false, true]) {
        const out = await run(input, { operations, output: { keepProfile } }, 'jpeg');
        const meta = await sharp(out.data).metadata();
        expect(meta.width! < meta.height!).toBe(true); // rotated to portrait
        expect(meta.orientation).toBeUndefined();
        expect(meta.exif).toBeUndefined();
        expect(meta.xmp).toBeUndefined();
        expect(meta.hasProfile).toBe(keepProfile);
      }
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

describe('gravity crop: a window cut at the current size, never scaled', () => {
  let input: Buffer; // 800×600: left half red, right half blue, 100×100 green square at (350, 250)
  beforeAll(async () => {
    input = await redBlueGreenCentre();
  });

  const crop = (width: number, height: number, gravity?: string, extra: Partial<RenderOptions> = {}) =>
    run(input, { operations: [{ op: 'crop', width, height, ...(gravity ? { gravity } : {}) }] }, 'png', extra);
  const colourAt = async (image: Buffer, x: number, y: number) => {
    const [r, g, b] = await pixel(image, x, y);
    return r === 255 && g === 0 && b === 0 ? 'red' : r === 0 && g === 255 && b === 0 ? 'green' : r === 0 && g === 0 && b === 255 ? 'blue' : `rgb(${r},${g},${b})`;
  };
  /** The one colour every pixel of `image` has, or null when it has several. */
  const solidColour = async (image: Buffer) => {
    const { channels } = await sharp(image).stats();
    if (channels.slice(0, 3).some((c) => c.min !== c.max)) return null;
    return colourAt(image, 0, 0);
  };

  it('crop 100x100 (center by default) is the green square, 100×100', async () => {
    const out = await crop(100, 100);
    expect([out.width, out.height]).toEqual([100, 100]);
    expect(await solidColour(out.data)).toBe('green');
    expect(await solidColour((await crop(100, 100, 'center')).data)).toBe('green');
  });

  it.each([
    ['east', 'blue'],
    ['west', 'red'],
    ['northeast', 'blue'],
    ['southeast', 'blue'],
    ['northwest', 'red'],
    ['southwest', 'red'],
  ])('gravity %s takes the window at that edge: all %s', async (gravity, colour) => {
    const out = await crop(100, 100, gravity);
    expect([out.width, out.height]).toEqual([100, 100]);
    expect(await solidColour(out.data)).toBe(colour);
  });

  it.each(['north', 'south'])('gravity %s is centred horizontally: red then blue, split in the middle', async (gravity) => {
    const out = await crop(100, 100, gravity);
    expect([out.width, out.height]).toEqual([100, 100]);
    for (const y of [0, 50, 99]) {
      expect([await colourAt(out.data, 49, y), await colourAt(out.data, 50, y)]).toEqual(['red', 'blue']);
    }
  });

  it('a 300×200 centre window holds the square at full size, pixel-exact', async () => {
    const out = await crop(300, 200); // the image's (250, 200)–(550, 400)
    expect([out.width, out.height]).toEqual([300, 200]);
    expect(await colourAt(out.data, 99, 50)).toBe('red');
    expect(await colourAt(out.data, 100, 50)).toBe('green');
    expect(await colourAt(out.data, 199, 149)).toBe('green');
    expect(await colourAt(out.data, 200, 149)).toBe('blue');
    expect(await colourAt(out.data, 150, 150)).toBe('blue'); // (400, 350): below the square
  });

  it('a window larger than the image on a side is clamped to the image on that side', async () => {
    const wide = await crop(1000, 100);
    expect([wide.width, wide.height]).toEqual([800, 100]);
    expect([await colourAt(wide.data, 0, 50), await colourAt(wide.data, 400, 50), await colourAt(wide.data, 799, 50)]).toEqual([
      'red',
      'green',
      'blue',
    ]);
    const tallEast = await crop(100, 5000, 'east');
    expect([tallEast.width, tallEast.height]).toEqual([100, 600]);
    expect(await solidColour(tallEast.data)).toBe('blue');
    // Larger on both sides: the whole image, unchanged, and the output size check sees 800×600, not 2000×2000.
    const all = await crop(2000, 2000, 'southwest', { maxOutputPixels: 800 * 600 });
    expect([all.width, all.height]).toEqual([800, 600]);
    expect(await regionDiff(all.data, input, { left: 0, top: 0, width: 800, height: 600 })).toBe(0);
  });

  it('crops the current stage: after a resize, the window is cut from the resized image', async () => {
    // 400×300 after the resize: the square is 50×50 at (175, 125); a 50×50 centre window is all green.
    const out = await run(input, {
      operations: [
        { op: 'resize', width: 400 },
        { op: 'crop', width: 50, height: 50 },
      ],
    });
    expect([out.width, out.height]).toEqual([50, 50]);
    expect(await colourAt(out.data, 25, 25)).toBe('green');
    expect(await colourAt(out.data, 5, 5)).toBe('green');
  });

  it('the query syntax gives the same crops: crop=100x100 and crop=100x100:east', async () => {
    const viaQuery = (q: string) => render(input, parseQuerySpec(new URLSearchParams(q)), opts('png'));
    expect(await solidColour((await viaQuery('crop=100x100')).data)).toBe('green');
    expect(await solidColour((await viaQuery('crop=100x100:east')).data)).toBe('blue');
  });

  it('crops every frame of an animation to the same window', async () => {
    const gif = await animatedGif(3, 40, 30);
    const out = await run(gif, { operations: [{ op: 'crop', width: 20, height: 50, gravity: 'southeast' }] }, 'gif');
    expect(out).toMatchObject({ pages: 3, width: 20, height: 30 });
  });

  describe.each(['attention', 'entropy'])('%s', (gravity) => {
    // 800×600 flat grey with one 120×80 patch of noise at (600, 60), far from the centre. libvips
    // places an attention window on a 25 px grid (it searches a 32×32 thumbnail), so the window
    // leaves the patch that much room on each side.
    const patch = { left: 600, top: 60, width: 120, height: 80 };
    let detailed: Buffer;
    beforeAll(async () => {
      detailed = await greyWithDetail(800, 600, patch);
    });

    /** Bounding box of the pixels that are not the flat grey. */
    const detailBox = async (image: Buffer) => {
      const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
      let [x0, y0, x1, y1] = [Infinity, Infinity, -1, -1];
      for (let y = 0; y < info.height; y++) {
        for (let x = 0; x < info.width; x++) {
          const i = (y * info.width + x) * info.channels;
          if (data[i] === 0x80 && data[i + 1] === 0x80 && data[i + 2] === 0x80) continue;
          [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
        }
      }
      return { left: x0, top: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
    };
    const rawRegion = (image: Buffer, region: { left: number; top: number; width: number; height: number }) =>
      sharp(image).extract(region).raw().toBuffer();

    it('picks a window holding the detail, exactly width × height, without scaling', async () => {
      const out = await run(detailed, { operations: [{ op: 'crop', width: 300, height: 200, gravity }] });
      expect([out.width, out.height]).toEqual([300, 200]);
      // The whole patch is in the window at its own size (a scaled image would show it smaller) …
      const box = await detailBox(out.data);
      expect(box).toMatchObject({ width: 120, height: 80 });
      // … pixel for pixel the input's patch: no resampling happened.
      const found = await rawRegion(out.data, box);
      expect(found.equals(await rawRegion(detailed, patch))).toBe(true);
    });

    it('clamps a window larger than the image on a side, still at full size', async () => {
      const out = await run(detailed, { operations: [{ op: 'crop', width: 1000, height: 200, gravity }] });
      expect([out.width, out.height]).toEqual([800, 200]);
      expect(await detailBox(out.data)).toMatchObject({ width: 120, height: 80 });
    });

    it('is reached through the query syntax (crop=300x200:' + gravity + ') too', async () => {
      const out = await render(detailed, parseQuerySpec(new URLSearchParams(`crop=300x200:${gravity}`)), opts('png'));
      expect([out.width, out.height]).toEqual([300, 200]);
      expect((await detailBox(out.data)).width).toBe(120);
    });
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

describe('checkSpecFits', () => {
  const limits = { maxInputPixels: 50_000_000, maxOutputPixels: 50_000_000 };
  type Image = { format: InputFormat; width: number; height: number; pages: number };
  const photo: Image = { format: 'jpeg', width: 640, height: 480, pages: 1 };
  const fits = (body: unknown, image: Image = photo, l = limits) => () => checkSpecFits(parseSpec(body), image, l);

  it('accepts what the renderer can make, and refuses what it would refuse, with the same codes', () => {
    expect(fits({ operations: [{ op: 'crop', x: 540, y: 380, width: 100, height: 100 }] })).not.toThrow();
    expect(fits({ operations: [{ op: 'crop', x: 541, y: 380, width: 100, height: 100 }] })).toThrow(RenderSpecException);
    expect(fits({ operations: [{ op: 'crop', width: 5000, height: 5000 }] })).not.toThrow(); // a gravity window is clamped
    expect(fits({ operations: [{ op: 'resize', scale: 400 }, { op: 'resize', scale: 400 }] })).toThrow(ImageTooLargeException);
    expect(fits({ operations: [{ op: 'resize', width: 8000 }] })).not.toThrow(); // 8000×6000, 48 MP
    expect(fits({ operations: [{ op: 'resize', width: 8192 }] })).toThrow(/more pixels than allowed/); // 8192×6144 is 50.3 MP
    // 8000 wide after the resize; rotating it makes the bounding box wider than 8192.
    expect(fits({ operations: [{ op: 'resize', width: 8000 }, { op: 'rotate', angle: 2 }] }, photo, { ...limits, maxInputPixels: 80_000_000 })).toThrow(
      /8192 px a side/,
    );
    // Geometry follows the operations in order: the crop is checked against the resized image.
    expect(fits({ operations: [{ op: 'resize', width: 320 }, { op: 'crop', x: 300, y: 0, width: 50, height: 50 }] })).toThrow(/outside the 320x240/);
  });

  it('counts every frame of an animation that stays animated against MAX_OUTPUT_PIXELS', () => {
    const gif: Image = { format: 'gif', width: 1000, height: 1000, pages: 60 };
    expect(fits({ operations: [] }, gif)).toThrow(ImageTooLargeException); // 60 MP over 60 frames
    expect(fits({ operations: [], output: { format: 'png' } }, gif)).not.toThrow(); // one frame out
    expect(fits({ operations: [{ op: 'resize', width: 500 }] }, gif)).not.toThrow(); // 15 MP
  });
});
