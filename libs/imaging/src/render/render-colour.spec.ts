import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { parseSpec } from '../spec/parse-spec.util';
import { parseQuerySpec } from '../spec/query-spec.parser';
import { InputFormat } from '../spec/transformation-spec.types';
import { deltaE } from '../test/image.fixtures';
import { render, renderMany, RenderOptions } from './render.pipeline';
import { configureSharp } from './sharp-config.util';

const fixture = (name: string) => readFileSync(join(__dirname, '../test/fixtures', name));
const opts = (inputFormat: InputFormat): RenderOptions => ({ inputFormat, maxInputPixels: 50_000_000, maxOutputPixels: 50_000_000 });

/** 8-bit RGB pixels of an image, as a viewer that honours its profile shows them (sharp converts to sRGB on read). */
async function rgb(image: Buffer, patch = 1): Promise<{ data: Buffer; width: number; height: number }> {
  const srgb = await sharp(image).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (patch === 1) return { data: srgb.data, width: srgb.info.width, height: srgb.info.height };
  // Mean colour of each patch × patch block: a lossy encoder's edge ringing averages out, a colour error does not.
  const { width, height, channels } = srgb.info;
  const { data, info } = await sharp(srgb.data, { raw: { width, height, channels } })
    .resize(Math.floor(width / patch), Math.floor(height / patch), { kernel: 'linear', fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** ΔE*76 between two same-size images over a grid of sampled pixels: the largest and the mean. */
async function deltaEs(a: Buffer, b: Buffer, patch = 1): Promise<{ max: number; mean: number }> {
  const [pa, pb] = [await rgb(a, patch), await rgb(b, patch)];
  expect([pa.width, pa.height]).toEqual([pb.width, pb.height]);
  const all: number[] = [];
  for (let y = 0; y < pa.height; y += 1) {
    for (let x = 0; x < pa.width; x += 1) {
      const i = (y * pa.width + x) * 3;
      all.push(deltaE([...pa.data.subarray(i, i + 3)], [...pb.data.subarray(i, i + 3)]));
    }
  }
  return { max: Math.max(...all), mean: all.reduce((x, y) => x + y, 0) / all.length };
}
const maxDeltaE = async (a: Buffer, b: Buffer) => (await deltaEs(a, b)).max;

/** The bytes as stored, without colour management: only valid for images without a profile. */
async function storedPixel(image: Buffer, x: number, y: number): Promise<number[]> {
  const meta = await sharp(image).metadata();
  expect(meta.hasProfile).toBe(false);
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [...data.subarray(i, i + 3)];
}

beforeAll(() => configureSharp({ concurrency: 2, cacheMemoryMb: 32 }));

describe('colour management', () => {
  it.each([
    ['cmyk-swop.jpg', 'with its profile'],
    ['cmyk-no-profile.jpg', 'without a profile'],
  ])('renders a CMYK JPEG (%s, %s) to sRGB within ΔE 3 of sharp’s own conversion', async (name) => {
    const input = fixture(name);
    expect((await sharp(input).metadata()).space).toBe('cmyk');
    // sharp's reference: the embedded (or its default CMYK) profile to sRGB, one pipeline, nothing else.
    const reference = await sharp(input).withIccProfile('srgb').png().toBuffer();
    const chains = [
      { operations: [], output: { format: 'png' } },
      // flip then rotate: the chain materialises between stages, where a CMYK profile used to be lost.
      { operations: [{ op: 'flip' }, { op: 'flip' }, { op: 'rotate', angle: 0 }], output: { format: 'png' } },
      { operations: [], output: { format: 'webp', lossless: true, keepProfile: true } }, // CMYK is converted even then
      { operations: [], output: { format: 'jpeg', quality: 95 } },
    ];
    for (const body of chains) {
      const out = await render(input, parseSpec(body), opts('jpeg'));
      const meta = await sharp(out.data).metadata();
      expect({ body, space: meta.space, profile: meta.hasProfile }).toEqual({ body, space: 'srgb', profile: false });
      // Lossless outputs pixel by pixel; a JPEG by the mean colour of 8 × 8 patches (its own ringing at edges is not colour).
      const d = await deltaEs(out.data, reference, body.output.format === 'jpeg' ? 8 : 1);
      expect({ body, max: d.max < 3 }).toEqual({ body, max: true });
    }
  });

  it('converts Display P3 and ProPhoto to sRGB by default, and keeps them with keepProfile', async () => {
    // p3.png stores 241,0,0 in Display P3 (sRGB's red); prophoto.png stores 131,141,192 in ProPhoto.
    const cases: [string, number[], number[]][] = [
      ['p3.png', [241, 0, 0], [255, 0, 0]],
      ['prophoto.png', [131, 141, 192], [117, 160, 210]],
    ];
    for (const [name, stored, srgb] of cases) {
      const input = fixture(name);
      const out = await render(input, parseSpec({ output: { format: 'png' } }), opts('png'));
      expect(deltaE(await storedPixel(out.data, 0, 0), srgb)).toBeLessThan(3);

      const kept = await render(input, parseQuerySpec(new URLSearchParams('keepProfile=true&format=png')), opts('png'));
      const meta = await sharp(kept.data).metadata();
      expect(meta.icc?.equals((await sharp(input).metadata()).icc!)).toBe(true);
      // Stored as they were: read the bytes without applying the profile.
      const raw = await sharp(kept.data, { ignoreIcc: true }).raw().toBuffer();
      expect(deltaE([...raw.subarray(0, 3)], stored)).toBeLessThan(1);
      expect(deltaE((await rgb(kept.data)).data.subarray(0, 3) as unknown as number[], srgb)).toBeLessThan(3);
    }
  });

  it('converts 16-bit inputs and greyscale with a profile to sRGB, 8-bit for JPEG and WebP', async () => {
    for (const name of ['16-bit-grey-alpha.png', 'tbgn2c16.png']) {
      const input = fixture(name);
      // sharp's own default: sRGB from the embedded profile, or the pixels as sRGB when there is none.
      const reference = await sharp(input).flatten({ background: '#ffffff' }).png().toBuffer();
      // tbgn2c16 is a 32 × 32 pattern of hard colour edges: no JPEG of it is within ΔE 3, whatever the colour handling.
      const outputs = name === 'tbgn2c16.png' ? [{ format: 'png' }] : [{ format: 'jpeg', quality: 95 }];
      for (const output of [...outputs, { format: 'webp', lossless: true }]) {
        const format = output.format;
        const out = await render(input, parseSpec({ operations: [{ op: 'flatten' }], output }), opts('png'));
        const meta = await sharp(out.data).metadata();
        const depth = format === 'png' ? meta.depth : meta.depth === 'uchar';
        expect({ name, format, depth, profile: meta.hasProfile }).toEqual({ name, format, depth: format === 'png' ? meta.depth : true, profile: false });
        const d = await deltaEs(out.data, reference, format === 'jpeg' ? 8 : 1);
        expect({ name, format, close: d.max < 3 }).toEqual({ name, format, close: true });
      }
    }
  });

  it('eager renders of one original share a decode only when they agree on keepProfile', async () => {
    const input = fixture('p3.png');
    const [plain, kept] = await renderMany(
      input,
      [parseSpec({ output: { format: 'png' } }), parseSpec({ output: { format: 'png', keepProfile: true } })],
      opts('png'),
    );
    expect((await sharp(plain.data).metadata()).hasProfile).toBe(false);
    expect((await sharp(kept.data).metadata()).hasProfile).toBe(true);
    const both = await renderMany(input, [parseSpec({ output: { format: 'png' } }), parseSpec({ output: { format: 'webp', lossless: true } })], opts('png'));
    for (const out of both) expect(deltaE(await storedPixel(out.data, 0, 0), [255, 0, 0])).toBeLessThan(3);
  });
});
