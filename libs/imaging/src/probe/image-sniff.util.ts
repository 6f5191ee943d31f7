import { InputFormat } from '../spec/transformation-spec.types';

export interface SniffedType {
  format: InputFormat;
  mime: string;
}

/** How many leading bytes callers should pass to `sniffImageType`. */
export const SNIFF_BYTES = 64;

const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs']);
/** Generic HEIF brands: the codec is only known from the compatible brands next to them. */
const GENERIC_HEIF_BRANDS = new Set(['mif1', 'msf1', 'miaf', 'mif2']);

const MIME: Record<InputFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  heic: 'image/heic',
  tiff: 'image/tiff',
  svg: 'image/svg+xml',
};

/**
 * Decides the image type from magic bytes only (never the file name or the
 * client's Content-Type). Returns null for anything that is not one of the
 * formats Pixmill knows, including formats sharp could read (libvips `.v`,
 * JPEG 2000, PDF…), so those are refused before any decoder sees them.
 */
export function sniffImageType(head: Buffer): SniffedType | null {
  const format = sniffFormat(head);
  return format ? { format, mime: MIME[format] } : null;
}

function sniffFormat(b: Buffer): InputFormat | null {
  const ascii = (start: number, end: number) => b.subarray(start, end).toString('latin1');
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    return 'png';
  }
  if (b.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return 'gif';
  if (b.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (b.length >= 4) {
    const sig = ascii(0, 4);
    // Classic TIFF (42) and BigTIFF (43), both byte orders.
    if (sig === 'II*\0' || sig === 'MM\0*' || sig === 'II+\0' || sig === 'MM\0+') return 'tiff';
  }
  if (b.length >= 12 && ascii(4, 8) === 'ftyp') return sniffIsoBmff(b);
  if (looksLikeSvg(b)) return 'svg';
  return null;
}

/** ISO-BMFF: major brand at 8, compatible brands from 16 to the end of the ftyp box. */
function sniffIsoBmff(b: Buffer): InputFormat | null {
  const boxSize = b.readUInt32BE(0);
  const end = Math.min(boxSize >= 16 ? boxSize : 16, b.length);
  const major = b.subarray(8, 12).toString('latin1');
  const compatible: string[] = [];
  for (let i = 16; i + 4 <= end; i += 4) compatible.push(b.subarray(i, i + 4).toString('latin1'));
  if (AVIF_BRANDS.has(major)) return 'avif';
  if (HEIC_BRANDS.has(major)) return 'heic';
  // mif1/msf1 (or an AVIF profile brand such as MA1B): only trust an explicit codec brand.
  if (compatible.some((brand) => AVIF_BRANDS.has(brand))) return 'avif';
  if (compatible.some((brand) => HEIC_BRANDS.has(brand))) return 'heic';
  if (GENERIC_HEIF_BRANDS.has(major)) return null; // HEIF with another codec (e.g. JPEG-in-HEIF): not supported
  return null; // mp4, mov, 3gp, jp2 (JPEG 2000 uses 'jP  ' boxes, not ftyp first), …
}

/** Text that starts (after an optional BOM and whitespace) like an SVG or XML document. */
function looksLikeSvg(b: Buffer): boolean {
  let text = b.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  // Binary data is not SVG: allow tabs, newlines and printable text only.
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(text)) return false;
  const start = text.trimStart().toLowerCase();
  if (start.startsWith('<svg')) return true;
  if (start.startsWith('<?xml') || start.startsWith('<!--') || start.startsWith('<!doctype svg')) {
    // An XML prolog may push `<svg` past the sniffed bytes; sharp's own check decides later.
    return start.startsWith('<!doctype svg') || start.includes('<svg') || !start.includes('>', start.indexOf('?>') + 2);
  }
  return false;
}
