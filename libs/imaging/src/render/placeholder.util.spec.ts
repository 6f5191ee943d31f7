import sharp from 'sharp';
import { decode as decodeBlurhash, isBlurhashValid } from 'blurhash';
import { thumbHashToApproximateAspectRatio, thumbHashToAverageRGBA, thumbHashToRGBA } from 'thumbhash';
import { twoColour } from '../test/image.fixtures';
import { computePlaceholder } from './placeholder.util';
import { renderThumbnail } from './render.pipeline';
import { configureSharp } from './sharp-config.util';

beforeAll(() => configureSharp({ concurrency: 2, cacheMemoryMb: 32 }));

describe('computePlaceholder', () => {
  it('gives a ThumbHash, a BlurHash and the dominant colour that decode back to the image', async () => {
    // 3/4 orange on the left, 1/4 blue on the right, 400 × 200.
    const input = await sharp({ create: { width: 400, height: 200, channels: 3, background: '#ff8000' } })
      .composite([{ input: { create: { width: 100, height: 200, channels: 3, background: '#0000ff' } }, left: 300, top: 0 }])
      .png()
      .toBuffer();
    const thumb = await renderThumbnail(input, 'png');
    const p = await computePlaceholder(thumb.data);

    expect(p.dominantColor).toMatch(/^#[0-9a-f]{6}$/);
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(p.dominantColor.slice(i, i + 2), 16));
    expect(r).toBeGreaterThan(200);
    expect(b).toBeLessThan(60);
    expect(g).toBeGreaterThan(90);

    const hash = Buffer.from(p.thumbhash, 'base64');
    expect(thumbHashToApproximateAspectRatio(hash)).toBeCloseTo(2, 0);
    const avg = thumbHashToAverageRGBA(hash);
    expect(avg.r).toBeGreaterThan(avg.b);
    const decoded = thumbHashToRGBA(hash);
    const at = (x: number) => [...decoded.rgba.subarray((Math.floor(decoded.h / 2) * decoded.w + x) * 4, (Math.floor(decoded.h / 2) * decoded.w + x) * 4 + 3)];
    expect(at(0)[0]).toBeGreaterThan(at(0)[2]); // orange on the left
    expect(at(decoded.w - 1)[2]).toBeGreaterThan(at(decoded.w - 1)[0]); // blue on the right

    expect(isBlurhashValid(p.blurhash).result).toBe(true);
    expect(p.blurhash).toHaveLength(4 + 2 * 4 * 3); // 4 × 3 components
    const pixels = decodeBlurhash(p.blurhash, 32, 16);
    const left = [...pixels.subarray((8 * 32 + 2) * 4, (8 * 32 + 2) * 4 + 3)];
    const right = [...pixels.subarray((8 * 32 + 30) * 4, (8 * 32 + 30) * 4 + 3)];
    expect(left[0]).toBeGreaterThan(left[2]);
    expect(right[2]).toBeGreaterThan(right[0]);
  });

  it('uses 3 × 4 BlurHash components for a portrait image, and differs between images', async () => {
    const portrait = await computePlaceholder((await renderThumbnail(await twoColour(100, 300, true), 'png')).data);
    expect(portrait.blurhash).toHaveLength(4 + 2 * 3 * 4);
    expect(isBlurhashValid(portrait.blurhash).result).toBe(true);
    const other = await computePlaceholder((await renderThumbnail(await twoColour(100, 300), 'png')).data);
    expect(other.thumbhash).not.toBe(portrait.thumbhash);
    expect(other.blurhash).not.toBe(portrait.blurhash);
  });
});
