import sharp from 'sharp';
import { parseExif } from './exif.parser';

/** sharp writes Orientation itself (1 unless `withMetadata({orientation})`). */
async function exifOf(exif: Record<string, Record<string, string>>, orientation = 1): Promise<Buffer> {
  const img = sharp({ create: { width: 4, height: 4, channels: 3, background: '#888' } })
    .jpeg()
    .withExif(exif)
    .withMetadata({ orientation });
  const meta = await sharp(await img.toBuffer()).metadata();
  return meta.exif!;
}

describe('parseExif', () => {
  it('reads camera fields from IFD0 and the Exif IFD, and GPS as decimal degrees', async () => {
    const block = await exifOf({
      IFD0: { Make: 'Canon', Model: 'EOS 5D' },
      IFD2: {
        DateTimeOriginal: '2024:05:01 12:34:56',
        ExposureTime: '1/250',
        FNumber: '28/10',
        ISOSpeedRatings: '400',
        FocalLength: '50/1',
        LensModel: 'EF50mm f/1.8',
      },
      IFD3: { GPSLatitudeRef: 'S', GPSLatitude: '33/1 51/1 3080/100', GPSLongitudeRef: 'E', GPSLongitude: '151/1 12/1 3600/100' },
    }, 6);
    const parsed = parseExif(block)!;
    expect(parsed.exif).toEqual({
      Make: 'Canon',
      Model: 'EOS 5D',
      Orientation: 6,
      DateTimeOriginal: '2024:05:01 12:34:56',
      ExposureTime: 0.004,
      FNumber: 2.8,
      ISO: 400,
      FocalLength: 50,
      LensModel: 'EF50mm f/1.8',
    });
    expect(parsed.gps!.latitude).toBeCloseTo(-(33 + 51 / 60 + 30.8 / 3600), 6);
    expect(parsed.gps!.longitude).toBeCloseTo(151 + 12 / 60 + 36 / 3600, 6);
  });

  it('gives gps null when there is no GPS IFD', async () => {
    const parsed = parseExif(await exifOf({ IFD0: { Make: 'X' } }));
    expect(parsed).toEqual({ exif: { Make: 'X', Orientation: 1 }, gps: null });
  });

  it('never throws on garbage or truncated blocks', async () => {
    const good = await exifOf({ IFD0: { Make: 'Canon', Model: 'M' }, IFD3: { GPSLatitude: '1/1 0/1 0/1' } });
    expect(parseExif(undefined)).toBeNull();
    expect(parseExif(Buffer.from('Exif\0\0garbage!'))).toBeNull();
    expect(parseExif(Buffer.from('II*\0\xff\xff\xff\xff', 'latin1'))).toEqual({ exif: {}, gps: null });
    for (let cut = 0; cut < good.length; cut += 7) expect(() => parseExif(good.subarray(0, cut))).not.toThrow();
    const noisy = Buffer.from(good);
    for (let i = 20; i < noisy.length; i += 5) noisy[i] ^= 0xa5;
    expect(() => parseExif(noisy)).not.toThrow();
  });
});
