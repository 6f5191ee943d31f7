import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ImageCorruptException, ImageTooLargeException, UnsupportedMediaTypeException } from '@pixmill/common';
import { animatedGif, gradientJpeg, noise, pngClaiming } from '../test/image.fixtures';
import { probeImage, verifyDecodes } from './image-probe.util';

const limits = { maxInputPixels: 50_000_000, maxAnimationFrames: 100 };
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="20"><rect width="10" height="20"/></svg>');

describe('probeImage', () => {
  it('reports format, display size, alpha, orientation and EXIF without GPS in exif', async () => {
    const input = await sharp(await gradientJpeg(60, 40))
      .withExif({ IFD0: { Make: 'Pixmill' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '10/1 30/1 0/1', GPSLongitudeRef: 'W', GPSLongitude: '20/1 0/1 0/1' } })
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    const probe = await probeImage(input, limits);
    expect(probe).toMatchObject({
      format: 'jpeg',
      mimeType: 'image/jpeg',
      width: 40, // orientation 6: stored 60x40, shown 40x60
      height: 60,
      pages: 1,
      hasAlpha: false,
      orientation: 6,
      exif: { Make: 'Pixmill', Orientation: 6 },
      gps: { latitude: 10.5, longitude: -20 },
    });
  });

  it('reads files from a path as well as buffers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixmill-probe-'));
    const path = join(dir, 'upload.bin');
    await writeFile(path, await sharp(await noise(20, 10)).webp().toBuffer());
    expect(await probeImage(path, limits)).toMatchObject({ format: 'webp', width: 20, height: 10, exif: null, gps: null });
  });

  it('counts animation frames and enforces the frame limit', async () => {
    const gif = await animatedGif(5);
    expect(await probeImage(gif, limits)).toMatchObject({ format: 'gif', pages: 5, width: 32, height: 24 });
    await expect(probeImage(gif, { ...limits, maxAnimationFrames: 4 })).rejects.toBeInstanceOf(ImageTooLargeException);
    // pixels are counted over all frames: 32*24*5 = 3840
    await expect(probeImage(gif, { ...limits, maxInputPixels: 3839 })).rejects.toBeInstanceOf(ImageTooLargeException);
  });

  it('refuses a PNG whose header claims 60000x60000 from the header alone', async () => {
    const bomb = pngClaiming(60000, 60000);
    expect(bomb.length).toBeLessThan(100);
    const started = Date.now();
    await expect(probeImage(bomb, limits)).rejects.toBeInstanceOf(ImageTooLargeException);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses SVG unless allowed, and text', async () => {
    await expect(probeImage(SVG, limits)).rejects.toBeInstanceOf(UnsupportedMediaTypeException);
    expect(await probeImage(SVG, { ...limits, allowSvg: true })).toMatchObject({ format: 'svg', width: 10, height: 20 });
    await expect(probeImage(Buffer.from('just some text'), limits)).rejects.toBeInstanceOf(UnsupportedMediaTypeException);
  });

  it('refuses formats sharp reads but Pixmill does not accept (libvips .v)', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'pixmill-probe-')), 'image.v');
    await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } }).toFile(path);
    expect((await sharp(path).metadata()).format).toBe('vips'); // sharp itself would read it
    await expect(probeImage(path, limits)).rejects.toBeInstanceOf(UnsupportedMediaTypeException);
  });

  it('maps an unreadable header to ImageCorruptException', async () => {
    const bad = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 0x41)]);
    await expect(probeImage(bad, limits)).rejects.toBeInstanceOf(ImageCorruptException);
  });
});

describe('verifyDecodes', () => {
  it('passes a whole image and rejects a truncated JPEG as corrupt', async () => {
    const jpeg = await sharp(await noise(256, 256)).jpeg({ quality: 90 }).toBuffer();
    await expect(verifyDecodes(jpeg, limits)).resolves.toBeUndefined();
    const truncated = jpeg.subarray(0, Math.floor(jpeg.length / 2));
    // the header still reads fine…
    await expect(probeImage(truncated, limits)).resolves.toMatchObject({ width: 256 });
    // …but the full decode does not
    await expect(verifyDecodes(truncated, limits)).rejects.toBeInstanceOf(ImageCorruptException);
  });

  it('rejects a truncated PNG and decodes every frame of an animation', async () => {
    const png = await noise(128, 128);
    await expect(verifyDecodes(png.subarray(0, png.length - 2000), limits)).rejects.toBeInstanceOf(ImageCorruptException);
    await expect(verifyDecodes(await animatedGif(3), { ...limits, animated: true })).resolves.toBeUndefined();
  });
});
