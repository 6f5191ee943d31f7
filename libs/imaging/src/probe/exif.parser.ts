/** The EXIF fields Pixmill keeps about an original (SPEC §3 image `exif`). GPS is separate: it is private. */
export interface ImageExif {
  Make?: string;
  Model?: string;
  /** As written by the camera: `YYYY:MM:DD HH:MM:SS`. */
  DateTimeOriginal?: string;
  /** Seconds. */
  ExposureTime?: number;
  FNumber?: number;
  ISO?: number;
  /** Millimetres. */
  FocalLength?: number;
  LensModel?: string;
  Orientation?: number;
}

export interface GpsPosition {
  /** Decimal degrees, south negative. */
  latitude: number;
  /** Decimal degrees, west negative. */
  longitude: number;
}

export interface ParsedExif {
  exif: ImageExif;
  gps: GpsPosition | null;
}

const TYPE_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8 };
const MAX_ENTRIES = 512;
const MAX_STRING = 256;

const TAG = {
  Make: 0x010f,
  Model: 0x0110,
  Orientation: 0x0112,
  ExifIfd: 0x8769,
  GpsIfd: 0x8825,
  ExposureTime: 0x829a,
  FNumber: 0x829d,
  ISO: 0x8827,
  DateTimeOriginal: 0x9003,
  FocalLength: 0x920a,
  LensModel: 0xa434,
  GpsLatitudeRef: 1,
  GpsLatitude: 2,
  GpsLongitudeRef: 3,
  GpsLongitude: 4,
} as const;

interface Entry {
  type: number;
  count: number;
  /** Absolute offset of the value bytes in the TIFF block. */
  at: number;
}

/**
 * A small, defensive reader for the few EXIF tags above: a TIFF header, IFD0,
 * the Exif sub-IFD and the GPS sub-IFD. It accepts the raw block sharp returns
 * in `metadata().exif` (with or without the `Exif\0\0` prefix). Garbage never
 * throws: it yields null or the fields that could be read.
 */
export function parseExif(block: Buffer | undefined | null): ParsedExif | null {
  if (!block || block.length < 8) return null;
  const tiff = block.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? block.subarray(6) : block;
  if (tiff.length < 8) return null;
  const order = tiff.subarray(0, 2).toString('latin1');
  if (order !== 'II' && order !== 'MM') return null;
  const le = order === 'II';
  const u16 = (o: number) => (le ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const u32 = (o: number) => (le ? tiff.readUInt32LE(o) : tiff.readUInt32BE(o));
  const i32 = (o: number) => (le ? tiff.readInt32LE(o) : tiff.readInt32BE(o));
  if (u16(2) !== 42) return null;

  const readIfd = (offset: number): Map<number, Entry> => {
    const entries = new Map<number, Entry>();
    if (offset < 8 || offset + 2 > tiff.length) return entries;
    const n = Math.min(u16(offset), MAX_ENTRIES);
    for (let i = 0; i < n; i++) {
      const e = offset + 2 + i * 12;
      if (e + 12 > tiff.length) break;
      const type = u16(e + 2);
      const count = u32(e + 4);
      const size = TYPE_SIZES[type];
      if (!size) continue;
      const bytes = size * count;
      const at = bytes <= 4 ? e + 8 : u32(e + 8);
      if (at + bytes > tiff.length || bytes > tiff.length) continue;
      entries.set(u16(e), { type, count, at });
    }
    return entries;
  };

  const string = (e: Entry | undefined): string | undefined => {
    if (!e || e.type !== 2) return undefined;
    const s = tiff
      .subarray(e.at, e.at + Math.min(e.count, MAX_STRING))
      .toString('latin1')
      .replace(/\0[\s\S]*$/, '')
      .trim();
    return s.length > 0 ? s : undefined;
  };
  const rational = (e: Entry | undefined, index = 0): number | undefined => {
    if (!e || (e.type !== 5 && e.type !== 10) || index >= e.count) return undefined;
    const o = e.at + index * 8;
    const [num, den] = e.type === 5 ? [u32(o), u32(o + 4)] : [i32(o), i32(o + 4)];
    return den === 0 ? undefined : num / den;
  };
  const integer = (e: Entry | undefined): number | undefined => {
    if (!e || e.count < 1) return undefined;
    if (e.type === 3) return u16(e.at);
    if (e.type === 4) return u32(e.at);
    return undefined;
  };

  try {
    const ifd0 = readIfd(u32(4));
    const exifIfd = ifd0.has(TAG.ExifIfd) ? readIfd(integer(ifd0.get(TAG.ExifIfd)) ?? 0) : new Map<number, Entry>();
    const gpsIfd = ifd0.has(TAG.GpsIfd) ? readIfd(integer(ifd0.get(TAG.GpsIfd)) ?? 0) : new Map<number, Entry>();

    const orientation = integer(ifd0.get(TAG.Orientation));
    const exif: ImageExif = dropUndefined({
      Make: string(ifd0.get(TAG.Make)),
      Model: string(ifd0.get(TAG.Model)),
      DateTimeOriginal: string(exifIfd.get(TAG.DateTimeOriginal)),
      ExposureTime: round(rational(exifIfd.get(TAG.ExposureTime))),
      FNumber: round(rational(exifIfd.get(TAG.FNumber))),
      ISO: integer(exifIfd.get(TAG.ISO)),
      FocalLength: round(rational(exifIfd.get(TAG.FocalLength))),
      LensModel: string(exifIfd.get(TAG.LensModel)),
      Orientation: orientation !== undefined && orientation >= 1 && orientation <= 8 ? orientation : undefined,
    });
    return { exif, gps: readGps(gpsIfd, string, rational) };
  } catch {
    return null; // a read past a bound we did not foresee: treat as no EXIF
  }
}

function readGps(
  gps: Map<number, Entry>,
  string: (e: Entry | undefined) => string | undefined,
  rational: (e: Entry | undefined, i?: number) => number | undefined,
): GpsPosition | null {
  const coordinate = (tag: number, refTag: number, negative: string, max: number): number | undefined => {
    const e = gps.get(tag);
    const [d, m, s] = [rational(e, 0), rational(e, 1) ?? 0, rational(e, 2) ?? 0];
    if (d === undefined) return undefined;
    const value = d + m / 60 + s / 3600;
    if (!Number.isFinite(value) || value < 0 || value > max) return undefined;
    const ref = string(gps.get(refTag))?.toUpperCase();
    return Math.round((ref === negative ? -value : value) * 1e7) / 1e7;
  };
  const latitude = coordinate(TAG.GpsLatitude, TAG.GpsLatitudeRef, 'S', 90);
  const longitude = coordinate(TAG.GpsLongitude, TAG.GpsLongitudeRef, 'W', 180);
  return latitude === undefined || longitude === undefined ? null : { latitude, longitude };
}

function round(value: number | undefined): number | undefined {
  return value === undefined || !Number.isFinite(value) ? undefined : Math.round(value * 1e6) / 1e6;
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
