import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageCorruptException, ImageTooLargeException, UnsupportedMediaTypeException } from '@pixmill/common';
import { box, heic as fakeHeic, irot, withImageCopies, withPrimaryProperties } from '@pixmill/testing';

import { parseHeifHeader } from './heif-header.parser';
import { probeImage, verifyDecodes } from '../probe/image-probe.util';

const fixture = (name: string) => readFileSync(join(__dirname, '../test/fixtures', name));
const plain = fixture('hevc-160x120.heic');
const limits = { maxInputPixels: 50_000_000 };
const DOMAIN = [ImageCorruptException, ImageTooLargeException, UnsupportedMediaTypeException];

describe('parseHeifHeader', () => {
  it('reads size, orientation, profile and image count from the boxes', async () => {
    expect(await parseHeifHeader(plain, limits)).toMatchObject({
      primaryType: 'hvc1',
      width: 160,
      height: 120,
      hasTransform: false,
      exifOrientation: null,
      icc: null,
      hasAlpha: false,
      imageCount: 1,
    });
    const exif = await parseHeifHeader(fixture('hevc-exif-orientation-6.heic'), limits);
    expect(exif).toMatchObject({ codedWidth: 160, codedHeight: 120, width: 120, height: 160, exifOrientation: 6 });
    expect(exif.exif?.subarray(0, 6).toString('latin1')).toBe('Exif\0\0');
    expect((await parseHeifHeader(fixture('hevc-p3.heic'), limits)).icc?.subarray(36, 40).toString('latin1')).toBe('acsp');
  });

  it('reads irot and imir, and then ignores the EXIF orientation for the size', async () => {
    expect(await parseHeifHeader(withPrimaryProperties(plain, [irot(1)]), limits)).toMatchObject({ rotation: 90, width: 120, height: 160, hasTransform: true });
    expect(await parseHeifHeader(withPrimaryProperties(plain, [irot(2)]), limits)).toMatchObject({ rotation: 180, width: 160, height: 120 });
    expect(await parseHeifHeader(withPrimaryProperties(plain, [box('imir', Buffer.from([0]))]), limits)).toMatchObject({ mirror: true, width: 160 });
    // irot 2 with EXIF 6 beside it: the file's transformation wins, the size is not swapped.
    const both = withPrimaryProperties(fixture('hevc-exif-orientation-6.heic'), [irot(2)]);
    expect(await parseHeifHeader(both, limits)).toMatchObject({ exifOrientation: 6, width: 160, height: 120 });
  });

  it('reads a path in bounded pieces, with the same answer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heif-'));
    writeFileSync(join(dir, 'a.heic'), plain);
    expect(await parseHeifHeader(join(dir, 'a.heic'), limits)).toMatchObject({ width: 160, height: 120 });
    await expect(parseHeifHeader(join(dir, 'missing.heic'), limits)).rejects.toBeInstanceOf(ImageCorruptException);
  });

  it('applies the pixel and image-count limits from the header', async () => {
    await expect(parseHeifHeader(plain, { maxInputPixels: 160 * 120 - 1 })).rejects.toBeInstanceOf(ImageTooLargeException);
    await expect(parseHeifHeader(plain, { maxInputPixels: 160 * 120 })).resolves.toBeDefined();
    await expect(parseHeifHeader(plain, { ...limits, maxImages: 0 })).rejects.toBeInstanceOf(ImageTooLargeException);
    // A header claiming 100000×100000 (ispe patched): refused before any decode.
    const bomb = Buffer.from(plain);
    const at = bomb.indexOf('ispe', 0, 'latin1');
    bomb.writeUInt32BE(100_000, at + 8);
    bomb.writeUInt32BE(100_000, at + 12);
    await expect(probeImage(bomb, { ...limits, maxAnimationFrames: 100 })).rejects.toBeInstanceOf(ImageTooLargeException);
    await expect(verifyDecodes(bomb, limits)).rejects.toBeInstanceOf(ImageTooLargeException);
  });

  it('counts the top-level images of a collection against MAX_ANIMATION_FRAMES at probe, as frames of any input', async () => {
    const four = withImageCopies(plain, 3);
    expect(await parseHeifHeader(four, limits)).toMatchObject({ imageCount: 4, width: 160, height: 120 });
    await expect(probeImage(four, { ...limits, maxAnimationFrames: 3 })).rejects.toBeInstanceOf(ImageTooLargeException);
    // Within the limit it is the primary image, a still: one page.
    expect(await probeImage(four, { ...limits, maxAnimationFrames: 4 })).toMatchObject({ format: 'heic', width: 160, height: 120, pages: 1 });
    await expect(verifyDecodes(four, limits)).resolves.toBeUndefined();
  });

  it('refuses a HEIC container without HEVC parameter sets (undecodable) as corrupt', async () => {
    await expect(probeImage(await fakeHeic(), { ...limits, maxAnimationFrames: 100 })).rejects.toBeInstanceOf(ImageCorruptException);
  });

  it('truncated files: corrupt, at every length', async () => {
    for (let n = 0; n < plain.length; n += n < 600 ? 7 : 97) {
      const cut = plain.subarray(0, n);
      const e = await parseHeifHeader(cut, limits).then(() => null, (x) => x);
      expect({ n, ok: e instanceof ImageCorruptException }).toEqual({ n, ok: true });
    }
  });

  it('corrupted bytes: a domain error or a header, never anything else', async () => {
    // Deterministic pseudo-random corruptions of the header (the first 600 bytes hold ftyp and meta).
    let seed = 17;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      const bad = Buffer.from(plain);
      for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) bad[Math.floor(rand() * 600)] = Math.floor(rand() * 256);
      const e = await parseHeifHeader(bad, limits).then(() => null, (x) => x);
      if (e !== null) {
        expect({ i, error: DOMAIN.some((D) => e instanceof D) ? 'domain' : String(e) }).toEqual({ i, error: 'domain' });
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(100);
  });

  it('huge sizes and counts in boxes are refused, not allocated', async () => {
    const meta = plain.indexOf('meta', 0, 'latin1') - 4;
    const huge = Buffer.from(plain);
    huge.writeUInt32BE(0xfffffff0, meta); // the meta box claims 4 GB
    await expect(parseHeifHeader(huge, limits)).rejects.toBeInstanceOf(ImageCorruptException);
    const largesize = Buffer.from(plain);
    largesize.writeUInt32BE(1, meta); // 64-bit size follows: garbage
    await expect(parseHeifHeader(largesize, limits)).rejects.toBeInstanceOf(ImageCorruptException);
    const iloc = Buffer.from(plain);
    const at = iloc.indexOf('iloc', 0, 'latin1');
    iloc.writeUInt16BE(0xffff, at + 10); // item count
    await expect(parseHeifHeader(iloc, limits)).rejects.toBeInstanceOf(ImageCorruptException);
  });
});
