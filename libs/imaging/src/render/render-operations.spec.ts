import sharp from 'sharp';
import { ImageTooLargeException, ValidationFailedException } from '@pixmill/common';
import { parseSpec } from '../spec/parse-spec.util';
import { parseQuerySpec } from '../spec/query-spec.parser';
import { InputFormat, TransformationSpec } from '../spec/transformation-spec.types';
import { animatedGif, pixel, twoColour } from '../test/image.fixtures';
import { RenderSpecException } from './render-spec.exception';
import { checkSpecFits, RenderOptions, render } from './render.pipeline';
import { configureSharp } from './sharp-config.util';

const opts = (inputFormat: InputFormat, extra: Partial<RenderOptions> = {}): RenderOptions => ({
  inputFormat,
  maxInputPixels: 50_000_000,
  maxOutputPixels: 50_000_000,
  ...extra,
});

/**
 * Renders the same request written both ways, checks that the two syntaxes give
 * the same spec and the same pixels, and returns the output for the pixel checks.
 */
async function both(input: Buffer, json: unknown, query: string, inputFormat: InputFormat = 'png', extra: Partial<RenderOptions> = {}) {
  const fromJson = parseSpec(json);
  const fromQuery = parseQuerySpec(new URLSearchParams(query));
  expect(fromQuery).toEqual(fromJson);
  const [a, b] = [await render(input, fromJson, opts(inputFormat, extra)), await render(input, fromQuery, opts(inputFormat, extra))];
  expect(b.data.equals(a.data)).toBe(true);
  return a;
}

const solid = (width: number, height: number, background: string, channels: 3 | 4 = 3) =>
  sharp({ create: { width, height, channels, background } }).png().toBuffer();

/** A `colour` rectangle at (left, top) on a white canvas. */
async function onWhite(width: number, height: number, rect: { left: number; top: number; width: number; height: number }, colour: string) {
  return sharp(await solid(width, height, '#ffffff'))
    .composite([{ input: await solid(rect.width, rect.height, colour), left: rect.left, top: rect.top }])
    .png()
    .toBuffer();
}

const near = (actual: number[], expected: number[], tolerance = 3) =>
  expect({ actual, close: expected.every((v, i) => Math.abs(actual[i] - v) <= tolerance) }).toEqual({ actual, close: true });

beforeAll(() => configureSharp({ concurrency: 2, cacheMemoryMb: 32 }));

describe('trim', () => {
  it('cuts the border of the top-left colour away, in both syntaxes', async () => {
    const input = await onWhite(100, 80, { left: 20, top: 10, width: 40, height: 30 }, '#ff0000');
    const out = await both(input, { operations: [{ op: 'trim' }] }, 'trim=true');
    expect([out.width, out.height]).toEqual([40, 30]);
    const meta = await sharp(out.data).metadata();
    expect([meta.width, meta.height]).toEqual([40, 30]);
    near(await pixel(out.data, 0, 0), [255, 0, 0]);
    near(await pixel(out.data, 39, 29), [255, 0, 0]);
  });

  it('trims a named background colour at a threshold', async () => {
    // Near-white border (#f4f4f4): within threshold 20 of white, not within 5.
    const input = sharp(await solid(60, 60, '#f4f4f4'))
      .composite([{ input: await solid(20, 10, '#0000ff'), left: 30, top: 40 }])
      .png()
      .toBuffer();
    const wide = await both(await input, { operations: [{ op: 'trim', threshold: 20, background: '#ffffff' }] }, 'trim=20:ffffff');
    expect([wide.width, wide.height]).toEqual([20, 10]);
    near(await pixel(wide.data, 10, 5), [0, 0, 255]);
    const narrow = await both(await input, { operations: [{ op: 'trim', threshold: 5, background: '#ffffff' }] }, 'trim=5:%23ffffff');
    expect([narrow.width, narrow.height]).toEqual([60, 60]);
  });

  it('learns the trimmed size before the next operation', async () => {
    const input = await onWhite(100, 80, { left: 20, top: 10, width: 40, height: 30 }, '#ff0000');
    const out = await both(input, { operations: [{ op: 'trim' }, { op: 'extend', all: 5, background: '#0000ff' }] }, 'trim=true&extend=5:0000ff');
    expect([out.width, out.height]).toEqual([50, 40]);
    near(await pixel(out.data, 2, 2), [0, 0, 255]);
    near(await pixel(out.data, 25, 20), [255, 0, 0]);
  });
});

describe('extend', () => {
  it('pads each side with a colour', async () => {
    const input = await solid(20, 10, '#ff0000');
    const out = await both(
      input,
      { operations: [{ op: 'extend', top: 5, right: 10, bottom: 0, left: 2, background: '#0000ff' }] },
      'extend=5,10,0,2:0000ff',
    );
    expect([out.width, out.height]).toEqual([32, 15]);
    near(await pixel(out.data, 0, 0), [0, 0, 255]);
    near(await pixel(out.data, 1, 10), [0, 0, 255]);
    near(await pixel(out.data, 2, 5), [255, 0, 0]);
    near(await pixel(out.data, 21, 14), [255, 0, 0]);
    near(await pixel(out.data, 22, 14), [0, 0, 255]);
  });

  it('pads every side with all, black by default, and two values mean vertical, horizontal', async () => {
    const input = await solid(10, 10, '#ffffff');
    const all = await both(input, { operations: [{ op: 'extend', all: 4 }] }, 'extend=4');
    expect([all.width, all.height]).toEqual([18, 18]);
    near(await pixel(all.data, 0, 0), [0, 0, 0]);
    near(await pixel(all.data, 9, 9), [255, 255, 255]);
    const pair = await both(input, { operations: [{ op: 'extend', top: 1, bottom: 1, right: 3, left: 3 }] }, 'extend=1,3');
    expect([pair.width, pair.height]).toEqual([16, 12]);
  });

  it('mirrors or copies the image into the padding', async () => {
    const input = await twoColour(20, 10); // red | blue
    const mirror = await both(input, { operations: [{ op: 'extend', top: 0, right: 6, bottom: 0, left: 0, extendWith: 'mirror' }] }, 'extend=0,6,0,0:mirror');
    expect(mirror.width).toBe(26);
    near(await pixel(mirror.data, 22, 5), [0, 0, 255]); // the blue half reflected
    const copy = await both(input, { operations: [{ op: 'extend', top: 0, right: 0, bottom: 0, left: 6, extendWith: 'copy' }] }, 'extend=0,0,0,6:copy');
    near(await pixel(copy.data, 0, 5), [255, 0, 0]);
    const repeat = await both(input, { operations: [{ op: 'extend', top: 0, right: 0, bottom: 0, left: 6, extendWith: 'repeat' }] }, 'extend=0,0,0,6:repeat');
    near(await pixel(repeat.data, 0, 5), [0, 0, 255]); // the right edge tiled to the left
  });

  it('refuses an extend without sides, and a background with mirror', () => {
    expect(() => parseSpec({ operations: [{ op: 'extend' }] })).toThrow(ValidationFailedException);
    expect(() => parseSpec({ operations: [{ op: 'extend', all: 2, extendWith: 'mirror', background: '#fff' }] })).toThrow(
      ValidationFailedException,
    );
    expect(() => parseQuerySpec(new URLSearchParams('extend=1,2,3'))).toThrow(ValidationFailedException);
  });
});

describe('roundCorners', () => {
  it('makes the corners transparent, in px and in percent', async () => {
    const input = await solid(100, 100, '#ff0000');
    const px = await both(input, { operations: [{ op: 'roundCorners', radius: 20 }] }, 'roundCorners=20');
    expect((await pixel(px.data, 0, 0))[3]).toBe(0);
    expect((await pixel(px.data, 99, 99))[3]).toBe(0);
    expect((await pixel(px.data, 50, 0))[3]).toBe(255);
    expect((await pixel(px.data, 10, 10))[3]).toBeGreaterThan(200); // inside the 20 px arc
    const circle = await both(input, { operations: [{ op: 'roundCorners', radius: 50, unit: 'percent' }] }, 'roundCorners=50%');
    expect((await pixel(circle.data, 10, 10))[3]).toBe(0); // outside the circle
    expect((await pixel(circle.data, 50, 50))).toEqual([255, 0, 0, 255]);
  });

  it('shows the corners white in a JPEG', async () => {
    const out = await both(
      await solid(64, 48, '#0000ff'),
      { operations: [{ op: 'roundCorners', radius: 20 }], output: { format: 'jpeg', quality: 100 } },
      'roundCorners=20&format=jpeg&quality=100',
    );
    near(await pixel(out.data, 1, 1), [255, 255, 255], 20); // not black: the JPEG's white is under the corners
    near(await pixel(out.data, 30, 20), [0, 0, 255], 8);
  });

  it('refuses more than 50 percent', () => {
    expect(() => parseQuerySpec(new URLSearchParams('roundCorners=60%'))).toThrow(ValidationFailedException);
  });
});

describe('flatten, tint, negate, normalize', () => {
  it('flatten puts transparency on a colour and drops alpha', async () => {
    const input = await solid(10, 10, '#00000000', 4);
    const white = await both(input, { operations: [{ op: 'flatten' }] }, 'flatten=true');
    expect(await pixel(white.data, 5, 5)).toEqual([255, 255, 255]);
    const green = await both(input, { operations: [{ op: 'flatten', background: '#00ff00' }] }, 'flatten=00ff00');
    expect(await pixel(green.data, 5, 5)).toEqual([0, 255, 0]);
  });

  it('tint gives grey the hue of the colour', async () => {
    const out = await both(await solid(10, 10, '#808080'), { operations: [{ op: 'tint', color: '#ff0000' }] }, 'tint=ff0000');
    const [r, g, b] = await pixel(out.data, 5, 5);
    expect(r).toBeGreaterThan(g + 40);
    expect(Math.abs(g - b)).toBeLessThan(12);
  });

  it('negate inverts colours and keeps alpha', async () => {
    const out = await both(await solid(10, 10, '#ff000080', 4), { operations: [{ op: 'negate' }] }, 'negate=true');
    expect(await pixel(out.data, 5, 5)).toEqual([0, 255, 255, 128]);
  });

  it('normalize stretches a dull image to the full range', async () => {
    const dull = await sharp(Buffer.from(Array.from({ length: 100 }, (_, i) => 100 + Math.floor(i / 2))), {
      raw: { width: 100, height: 1, channels: 1 },
    })
      .resize(100, 10, { fit: 'fill', kernel: 'nearest' })
      .png()
      .toBuffer();
    const out = await both(dull, { operations: [{ op: 'normalize' }] }, 'normalize=true');
    const { data } = await sharp(out.data).greyscale().raw().toBuffer({ resolveWithObject: true });
    expect(Math.min(...data)).toBeLessThan(10);
    expect(Math.max(...data)).toBeGreaterThan(245);
  });
});

describe('frame', () => {
  const colours = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
  ];

  it('picks one frame of an animation, which makes a still', async () => {
    const gif = await animatedGif(3, 40, 30);
    for (const index of [0, 1, 2]) {
      const out = await both(gif, { operations: [{ op: 'frame', index }] }, `frame=${index}`, 'gif');
      expect(out.pages).toBe(1);
      const meta = await sharp(out.data).metadata();
      expect(meta.pages ?? 1).toBe(1);
      near((await pixel(out.data, 20, 15)).slice(0, 3), colours[index]);
    }
    const first = await both(gif, { operations: [{ op: 'frame', frames: 'first' }, { op: 'resize', width: 20 }] }, 'frame=first&resize=20x', 'gif');
    expect([first.width, first.pages]).toEqual([20, 1]);
    near((await pixel(first.data, 10, 7)).slice(0, 3), colours[0]);
  });

  it('keeps the animation with frames: all', async () => {
    const gif = await animatedGif(3, 40, 30);
    const out = await both(gif, { operations: [{ op: 'frame', frames: 'all' }] }, 'frame=all', 'gif');
    expect(out.pages).toBe(3);
  });

  it('refuses a frame the image does not have, at submission and at render', async () => {
    const gif = await animatedGif(3, 40, 30);
    const spec = parseSpec({ operations: [{ op: 'frame', index: 3 }] });
    await expect(render(gif, spec, opts('gif'))).rejects.toBeInstanceOf(RenderSpecException);
    expect(() => checkSpecFits(spec, { format: 'gif', width: 40, height: 30, pages: 3 }, opts('gif'))).toThrow(RenderSpecException);
    expect(() => checkSpecFits(parseSpec({ operations: [{ op: 'frame', index: 2 }] }), { format: 'gif', width: 40, height: 30, pages: 3 }, opts('gif'))).not.toThrow();
  });

  it('must come first and give exactly one of index and frames', () => {
    expect(() => parseSpec({ operations: [{ op: 'resize', width: 10 }, { op: 'frame', index: 0 }] })).toThrow(ValidationFailedException);
    expect(() => parseSpec({ operations: [{ op: 'frame' }] })).toThrow(ValidationFailedException);
    expect(() => parseSpec({ operations: [{ op: 'frame', index: 1, frames: 'all' }] })).toThrow(ValidationFailedException);
    expect(() => parseQuerySpec(new URLSearchParams('frame=last'))).toThrow(ValidationFailedException);
  });
});

describe('MAX_OUTPUT_FRAMES', () => {
  const limited = { maxOutputFrames: 2 };

  it('refuses an animated output with more frames, at submission and at render', async () => {
    const gif = await animatedGif(3, 40, 30);
    const spec: TransformationSpec = parseSpec({});
    await expect(render(gif, spec, opts('gif', limited))).rejects.toBeInstanceOf(ImageTooLargeException);
    expect(() => checkSpecFits(spec, { format: 'gif', width: 40, height: 30, pages: 3 }, opts('gif', limited))).toThrow(ImageTooLargeException);
    // Two frames pass; one frame picked out of three passes; a still output passes.
    expect((await render(await animatedGif(2, 40, 30), spec, opts('gif', limited))).pages).toBe(2);
    expect((await render(gif, parseSpec({ operations: [{ op: 'frame', index: 2 }] }), opts('gif', limited))).pages).toBe(1);
    expect((await render(gif, parseSpec({ output: { format: 'png' } }), opts('gif', limited))).pages).toBe(1);
  });
});

describe('MAX_OUTPUT_PIXELS over all frames', () => {
  // 3 frames of 40×30: 1,200 pixels a frame, 3,600 for the animation.
  const image = { format: 'gif' as const, width: 40, height: 30, pages: 3 };

  it('counts every frame of an animated output, at submission and at render; a frame or a still counts one', async () => {
    const gif = await animatedGif(3, 40, 30);
    const limited = opts('gif', { maxOutputPixels: 3000 });
    for (const query of ['format=gif', 'format=webp']) {
      const spec = parseQuerySpec(new URLSearchParams(query));
      expect(() => checkSpecFits(spec, image, limited)).toThrow(ImageTooLargeException);
      await expect(render(gif, spec, limited)).rejects.toBeInstanceOf(ImageTooLargeException);
    }
    // At the limit it renders, all three frames.
    expect((await render(gif, parseSpec({}), opts('gif', { maxOutputPixels: 3600 }))).pages).toBe(3);
    // Smaller frames fit: 20×15 × 3 = 900.
    const smaller = parseQuerySpec(new URLSearchParams('resize=20x&format=webp'));
    expect(() => checkSpecFits(smaller, image, limited)).not.toThrow();
    expect(await render(gif, smaller, limited)).toMatchObject({ width: 20, height: 15, pages: 3 });
    // One frame, or a still format, is one frame's pixels.
    for (const query of ['frame=1', 'format=png']) {
      const spec = parseQuerySpec(new URLSearchParams(query));
      expect(() => checkSpecFits(spec, image, limited)).not.toThrow();
      expect(await render(gif, spec, limited)).toMatchObject({ width: 40, height: 30, pages: 1 });
    }
  });

  it('predicts the size after each operation for every frame: an extend that grows the frames past it is refused', async () => {
    const gif = await animatedGif(3, 40, 30);
    const limited = opts('gif', { maxOutputPixels: 5000 });
    // 50×40 × 3 = 6,000 animated; 2,000 as a still.
    const padded = parseQuerySpec(new URLSearchParams('extend=5'));
    expect(() => checkSpecFits(padded, image, limited)).toThrow(ImageTooLargeException);
    await expect(render(gif, padded, limited)).rejects.toBeInstanceOf(ImageTooLargeException);
    const still = parseQuerySpec(new URLSearchParams('extend=5&format=png'));
    expect(() => checkSpecFits(still, image, limited)).not.toThrow();
    expect(await render(gif, still, limited)).toMatchObject({ width: 50, height: 40, pages: 1 });
  });
});

describe('animated WebP from an animated GIF', () => {
  it('keeps each frame’s delay and the loop count of the input', async () => {
    const frames = await Promise.all(
      ['#ff0000', '#00ff00', '#0000ff'].map((background) => sharp({ create: { width: 20, height: 10, channels: 4, background } }).png().toBuffer()),
    );
    const gif = await sharp(frames, { join: { animated: true } }).gif({ delay: [80, 250, 1000], loop: 3 }).toBuffer();
    const input = await sharp(gif).metadata();
    expect([input.delay, input.loop]).toEqual([[80, 250, 1000], 3]);
    const out = await render(gif, parseQuerySpec(new URLSearchParams('resize=10x&format=webp')), opts('gif'));
    const meta = await sharp(out.data, { animated: true }).metadata();
    expect({ format: meta.format, pages: meta.pages, delay: meta.delay, loop: meta.loop, width: meta.width }).toEqual({
      format: 'webp',
      pages: 3,
      delay: input.delay,
      loop: input.loop,
      width: 10,
    });
  });
});
