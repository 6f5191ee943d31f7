import sharp from 'sharp';
import { computePlaceholder } from '@pixmill/imaging';
import { PixmillError } from './pixmill.error';
import { thumbHashDataUrl } from './placeholder.util';

/** The PNG inside a data URL, decoded: size and RGBA pixels. */
async function decodeDataUrl(url: string) {
  const match = /^data:image\/png;base64,([A-Za-z0-9+/]+=*)$/.exec(url);
  expect(match).not.toBeNull();
  const { data, info } = await sharp(Buffer.from(match![1], 'base64')).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => [...data.subarray((y * info.width + x) * 4, (y * info.width + x) * 4 + 4)];
  return { width: info.width, height: info.height, at };
}

describe('thumbHashDataUrl', () => {
  it('turns the worker’s ThumbHash of an image into a PNG data URL with its aspect ratio and colours', async () => {
    // 300×150, left half red, right half blue, as the worker's 256 px listing thumbnail would be (WebP).
    const left = await sharp({ create: { width: 150, height: 150, channels: 3, background: '#e01010' } }).png().toBuffer();
    const image = await sharp({ create: { width: 300, height: 150, channels: 3, background: '#1030e0' } })
      .composite([{ input: left, left: 0, top: 0 }])
      .webp({ lossless: true })
      .toBuffer();
    const { thumbhash } = await computePlaceholder(image);

    const png = await decodeDataUrl(thumbHashDataUrl(thumbhash));
    // ThumbHash keeps the aspect ratio approximately, at most 32 px a side: 2:1 here.
    expect(Math.max(png.width, png.height)).toBe(32);
    expect(png.width / png.height).toBeCloseTo(2, 0);
    const [r1, g1, b1, a1] = png.at(Math.floor(png.width * 0.15), png.height >> 1);
    const [r2, g2, b2, a2] = png.at(Math.floor(png.width * 0.85), png.height >> 1);
    expect({ left: r1 > 150 && r1 > b1 + 80 && g1 < 100, right: b2 > 150 && b2 > r2 + 80 && g2 < 120, opaque: [a1, a2] }).toEqual({
      left: true,
      right: true,
      opaque: [255, 255],
    });
  });

  it('keeps transparency: a ThumbHash of a transparent image gives transparent pixels', async () => {
    const image = await sharp({ create: { width: 100, height: 100, channels: 4, background: { r: 0, g: 128, b: 0, alpha: 0 } } })
      .webp({ lossless: true })
      .toBuffer();
    const png = await decodeDataUrl(thumbHashDataUrl((await computePlaceholder(image)).thumbhash));
    expect([png.width, png.height]).toEqual([32, 32]);
    expect(png.at(16, 16)[3]).toBeLessThan(30);
  });

  it('refuses what is not a ThumbHash with invalid_response', () => {
    for (const bad of ['not base64!', '', 'AAA=']) {
      expect(() => thumbHashDataUrl(bad)).toThrow(PixmillError);
      try {
        thumbHashDataUrl(bad);
      } catch (e) {
        expect((e as PixmillError).code).toBe('invalid_response');
      }
    }
  });
});
