import sharp from 'sharp';
import { SNIFF_BYTES, sniffImageType } from './image-sniff.util';

const base = () => sharp({ create: { width: 8, height: 8, channels: 3, background: '#3366cc' } });
const ftyp = (major: string, ...compatible: string[]) => {
  const size = 16 + 4 * compatible.length;
  const b = Buffer.alloc(size);
  b.writeUInt32BE(size, 0);
  b.write('ftyp', 4, 'latin1');
  b.write(major, 8, 'latin1');
  compatible.forEach((brand, i) => b.write(brand, 16 + 4 * i, 'latin1'));
  return b;
};

describe('sniffImageType', () => {
  it.each([
    ['jpeg', 'image/jpeg', () => base().jpeg().toBuffer()],
    ['png', 'image/png', () => base().png().toBuffer()],
    ['gif', 'image/gif', () => base().gif().toBuffer()],
    ['webp', 'image/webp', () => base().webp().toBuffer()],
    ['avif', 'image/avif', () => base().avif({ effort: 0 }).toBuffer()],
    ['tiff', 'image/tiff', () => base().tiff().toBuffer()],
  ])('recognises %s written by sharp from its first bytes', async (format, mime, make) => {
    const head = (await make()).subarray(0, SNIFF_BYTES);
    expect(sniffImageType(head)).toEqual({ format, mime });
  });

  it('recognises big-endian TIFF and BigTIFF', () => {
    expect(sniffImageType(Buffer.from('MM\0*\0\0\0\x08', 'latin1'))?.format).toBe('tiff');
    expect(sniffImageType(Buffer.from('II+\0\x08\0\0\0', 'latin1'))?.format).toBe('tiff');
  });

  it('reads HEIF brands: heic family, avif, and mif1 only with a codec brand', () => {
    for (const brand of ['heic', 'heix', 'hevc', 'heim', 'heis', 'hevm', 'hevs']) {
      expect(sniffImageType(ftyp(brand, 'mif1'))).toEqual({ format: 'heic', mime: 'image/heic' });
    }
    expect(sniffImageType(ftyp('avis', 'msf1'))?.format).toBe('avif');
    expect(sniffImageType(ftyp('mif1', 'mif1', 'avif'))?.format).toBe('avif');
    expect(sniffImageType(ftyp('msf1', 'msf1', 'hevc'))?.format).toBe('heic');
    expect(sniffImageType(ftyp('mif1', 'mif1', 'miaf'))).toBeNull();
    expect(sniffImageType(ftyp('isom', 'isom', 'mp41'))).toBeNull(); // an MP4 video
  });

  it('recognises SVG text, with or without an XML prolog', () => {
    expect(sniffImageType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toEqual({
      format: 'svg',
      mime: 'image/svg+xml',
    });
    expect(sniffImageType(Buffer.from('\ufeff  <?xml version="1.0" encoding="UTF-8"?>\n<svg>'))?.format).toBe('svg');
    expect(sniffImageType(Buffer.from('<?xml version="1.0"?><html><body>'))).toBeNull();
  });

  it('returns null for text, empty input, truncated signatures and other formats', () => {
    expect(sniffImageType(Buffer.from('hello, this is a text file\n'))).toBeNull();
    expect(sniffImageType(Buffer.alloc(0))).toBeNull();
    expect(sniffImageType(Buffer.from([0xff, 0xd8]))).toBeNull();
    expect(sniffImageType(Buffer.from('%PDF-1.7\n'))).toBeNull();
    expect(sniffImageType(Buffer.from('BM\x36\0\0\0', 'latin1'))).toBeNull(); // BMP
    expect(sniffImageType(Buffer.from([0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a]))).toBeNull(); // JPEG 2000
    expect(sniffImageType(Buffer.from('VIPS\0\0\0\0', 'latin1'))).toBeNull();
  });
});
