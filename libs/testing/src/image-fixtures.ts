import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import sharp, { Sharp } from 'sharp';

/**
 * Upload inputs for the e2e tests, made with sharp at test time (nothing from the shared
 * corpus is committed). Every generator is deterministic: the same arguments give the same
 * bytes, so an upload's sha256 can be asserted. Pixels are a gradient with seeded noise,
 * which encoders treat like a photo (flat colour would compress to almost nothing).
 *
 * Results are memoised per process: a test file can ask for the same fixture many times.
 */

const cache = new Map<string, Promise<Buffer>>();
function memo(key: string, make: () => Promise<Buffer>): Promise<Buffer> {
  let hit = cache.get(key);
  if (!hit) {
    hit = make();
    cache.set(key, hit);
  }
  return hit;
}

/** mulberry32: a tiny seeded PRNG, enough to make reproducible noise. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Raw RGB pixels: a diagonal colour gradient plus ±`amplitude` of seeded noise per channel. */
export function photoPixels(width: number, height: number, opts: { seed?: number; amplitude?: number } = {}): Buffer {
  const rand = prng(opts.seed ?? 1);
  const amplitude = opts.amplitude ?? 40;
  const raw = Buffer.alloc(width * height * 3);
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const n = () => (rand() - 0.5) * 2 * amplitude;
      raw[i] = clamp(Math.round((x / width) * 255 + n()));
      raw[i + 1] = clamp(Math.round((y / height) * 255 + n()));
      raw[i + 2] = clamp(Math.round(((x + y) / (width + height)) * 255 + n()));
    }
  }
  return raw;
}

function photo(width: number, height: number, seed = 1, amplitude = 40): Sharp {
  return sharp(photoPixels(width, height, { seed, amplitude }), { raw: { width, height, channels: 3 } });
}

export function jpeg(width = 320, height = 240, opts: { seed?: number; quality?: number } = {}): Promise<Buffer> {
  const { seed = 1, quality = 85 } = opts;
  return memo(`jpeg:${width}:${height}:${seed}:${quality}`, () => photo(width, height, seed).jpeg({ quality }).toBuffer());
}

export function png(width = 320, height = 240, seed = 1): Promise<Buffer> {
  return memo(`png:${width}:${height}:${seed}`, () => photo(width, height, seed, 10).png().toBuffer());
}

/** A PNG with an alpha channel: the photo, its right half fully transparent. */
export function pngWithAlpha(width = 320, height = 240, seed = 1): Promise<Buffer> {
  return memo(`png-alpha:${width}:${height}:${seed}`, () => {
    const alpha = Buffer.alloc(width * height);
    for (let y = 0; y < height; y++) alpha.fill(255, y * width, y * width + Math.floor(width / 2));
    return photo(width, height, seed, 10)
      .joinChannel(alpha, { raw: { width, height, channels: 1 } })
      .png()
      .toBuffer();
  });
}

export function webp(width = 320, height = 240, seed = 1): Promise<Buffer> {
  return memo(`webp:${width}:${height}:${seed}`, () => photo(width, height, seed).webp({ quality: 80 }).toBuffer());
}

export function avif(width = 320, height = 240, seed = 1): Promise<Buffer> {
  return memo(`avif:${width}:${height}:${seed}`, () => photo(width, height, seed).avif({ quality: 50, effort: 0 }).toBuffer());
}

export function tiff(width = 320, height = 240, seed = 1): Promise<Buffer> {
  return memo(`tiff:${width}:${height}:${seed}`, () => photo(width, height, seed, 10).tiff({ compression: 'lzw' }).toBuffer());
}

/** A still (single-frame) GIF. */
export function gif(width = 320, height = 240, seed = 1): Promise<Buffer> {
  return memo(`gif:${width}:${height}:${seed}`, () => photo(width, height, seed, 10).gif().toBuffer());
}

/** `frames` distinct frames (different noise seeds) joined into one animation. */
async function animationFrames(frames: number, width: number, height: number): Promise<Buffer[]> {
  return Promise.all(
    Array.from({ length: frames }, (_, i) => photo(width, height, 100 + i, 10).png().toBuffer()),
  );
}

export function animatedGif(frames = 5, width = 64, height = 48): Promise<Buffer> {
  return memo(`agif:${frames}:${width}:${height}`, async () =>
    sharp(await animationFrames(frames, width, height), { join: { animated: true } })
      .gif({ delay: Array(frames).fill(100), loop: 0 })
      .toBuffer(),
  );
}

export function animatedWebp(frames = 5, width = 64, height = 48): Promise<Buffer> {
  return memo(`awebp:${frames}:${width}:${height}`, async () =>
    sharp(await animationFrames(frames, width, height), { join: { animated: true } })
      .webp({ delay: Array(frames).fill(100), loop: 0, quality: 80 })
      .toBuffer(),
  );
}

/**
 * A JPEG stored `width` × `height` with EXIF Orientation `orientation`: viewers (and Pixmill)
 * show it rotated, so for 5–8 the displayed size is `height` × `width`.
 */
export function exifOrientedJpeg(orientation: number, width = 300, height = 200): Promise<Buffer> {
  return memo(`exif:${orientation}:${width}:${height}`, () =>
    photo(width, height, 7).jpeg({ quality: 85 }).withMetadata({ orientation }).toBuffer(),
  );
}

/**
 * A JPEG with camera EXIF (Make `PixmillCam`, Model `Test 1`) and a GPS position
 * (48°51'30"N 2°17'40"E): private data that must not reach derivatives.
 */
export function jpegWithGps(): Promise<Buffer> {
  return memo('jpeg-gps', () =>
    photo(320, 240, 9)
      .jpeg({ quality: 85 })
      .withExif({
        IFD0: { Make: 'PixmillCam', Model: 'Test 1' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 30/1', GPSLongitudeRef: 'E', GPSLongitude: '2/1 17/1 40/1' },
      })
      .toBuffer(),
  );
}

/** The first half of a real JPEG: the header is intact, the scan data stops midway. */
export function truncatedJpeg(): Promise<Buffer> {
  return memo('truncated-jpeg', async () => {
    const full = await jpeg(640, 480, { seed: 3 });
    return full.subarray(0, Math.floor(full.length / 2));
  });
}

/**
 * A real small PNG whose IHDR then claims `width` × `height` (IHDR CRC recomputed, so the
 * header is valid): a decompression bomb's header, refused before any pixel is decoded.
 */
export function pngClaiming(width: number, height: number): Promise<Buffer> {
  return memo(`png-claiming:${width}:${height}`, async () => {
    const small = Buffer.from(await png(8, 8));
    // Signature (8) + IHDR length (4) + "IHDR" (4) + data (13) + CRC (4).
    if (small.subarray(12, 16).toString('latin1') !== 'IHDR') throw new Error('IHDR is not the first chunk');
    small.writeUInt32BE(width, 16);
    small.writeUInt32BE(height, 20);
    small.writeUInt32BE(crc32(small.subarray(12, 29)) >>> 0, 29);
    return small;
  });
}

/**
 * A HEIC as a phone writes it, as far as the container goes: brands `heic`, an `hvc1` primary
 * item and a valid `hvcC` decoder configuration. sharp cannot encode HEVC here (`heifsave:
 * Unsupported compression`), so this is sharp's AVIF re-labelled: the av1C property becomes
 * an hvcC record (Main profile, 4:2:0, 8 bit, no parameter sets) and the box sizes and item
 * offsets are fixed up. The payload is not HEVC, and the prebuilt libvips has no HEVC decoder
 * anyway: Pixmill must refuse it cleanly (415 unsupported codec, or 422) and store nothing.
 */
export function heic(): Promise<Buffer> {
  return memo('heic', async () => {
    const src = await avif(64, 48);
    const hvcC = box(
      'hvcC',
      Buffer.from([
        0x01, // configurationVersion
        0x01, // profile space 0, tier 0, profile idc 1 (Main)
        0x60, 0x00, 0x00, 0x00, // profile compatibility flags
        0x90, 0x00, 0x00, 0x00, 0x00, 0x00, // constraint indicator flags
        0x5d, // level 3.1
        0xf0, 0x00, // min spatial segmentation
        0xfc, // parallelism type
        0xfd, // chroma format 4:2:0
        0xf8, 0xf8, // bit depth luma/chroma − 8
        0x00, 0x00, // avg frame rate
        0x0f, // NAL length size 4
        0x00, // no parameter set arrays
      ]),
    );
    const top = children(src, 0, src.length);
    const ftyp = find(top, 'ftyp');
    const meta = find(top, 'meta');
    const mdat = find(top, 'mdat');
    const metaKids = children(src, meta.start + 12, meta.end);
    const iprp = find(metaKids, 'iprp');
    const iprpKids = children(src, iprp.start + 8, iprp.end);
    const ipco = find(iprpKids, 'ipco');
    const props = children(src, ipco.start + 8, ipco.end).map((p) => (p.type === 'av1C' ? hvcC : src.subarray(p.start, p.end)));
    const newIpco = box('ipco', Buffer.concat(props));
    const newIprp = box('iprp', Buffer.concat(iprpKids.map((k) => (k.type === 'ipco' ? newIpco : src.subarray(k.start, k.end)))));
    const metaBody = Buffer.concat([
      src.subarray(meta.start + 8, meta.start + 12), // version + flags
      ...metaKids.map((k) => (k.type === 'iprp' ? newIprp : Buffer.from(src.subarray(k.start, k.end)))),
    ]);
    const itemType = metaBody.indexOf('av01', 0, 'latin1'); // the primary item's type, in its infe box
    if (itemType === -1) throw new Error('no av01 item in the AVIF');
    metaBody.write('hvc1', itemType, 'latin1');
    const newMeta = box('meta', metaBody);
    const shift = newMeta.length - (meta.end - meta.start);
    shiftIlocOffsets(newMeta, shift);
    const newFtyp = Buffer.from(src.subarray(ftyp.start, ftyp.end));
    for (let at = newFtyp.indexOf('avif', 0, 'latin1'); at !== -1; at = newFtyp.indexOf('avif', at + 4, 'latin1')) {
      newFtyp.write('heic', at, 'latin1');
    }
    return Buffer.concat([newFtyp, newMeta, src.subarray(mdat.start, mdat.end)]);
  });
}

interface BoxRef {
  type: string;
  start: number;
  end: number;
}
export function box(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}
function children(b: Buffer, start: number, end: number): BoxRef[] {
  const out: BoxRef[] = [];
  for (let p = start; p + 8 <= end; ) {
    const size = b.readUInt32BE(p);
    if (size < 8) throw new Error('unsupported box size');
    out.push({ type: b.toString('latin1', p + 4, p + 8), start: p, end: p + size });
    p += size;
  }
  return out;
}
function find(boxes: BoxRef[], type: string): BoxRef {
  const hit = boxes.find((x) => x.type === type);
  if (!hit) throw new Error(`no ${type} box`);
  return hit;
}
/** Moves every file offset in the iloc box inside `meta` by `shift` (version 0/1, 4-byte offsets). */
function shiftIlocOffsets(meta: Buffer, shift: number): void {
  const iloc = find(children(meta, 12, meta.length), 'iloc');
  let p = iloc.start + 8;
  const version = meta[p];
  p += 4;
  const offsetSize = meta[p] >> 4;
  const lengthSize = meta[p] & 15;
  const baseOffsetSize = meta[p + 1] >> 4;
  const indexSize = version >= 1 ? meta[p + 1] & 15 : 0;
  p += 2;
  if (version > 1 || ![0, 4].includes(offsetSize) || ![0, 4].includes(baseOffsetSize) || indexSize !== 0) {
    throw new Error('unexpected iloc layout');
  }
  const items = meta.readUInt16BE(p);
  p += 2;
  for (let i = 0; i < items; i++) {
    p += 2; // item id
    if (version >= 1) p += 2; // construction method
    p += 2; // data reference index
    if (baseOffsetSize === 4) {
      meta.writeUInt32BE(meta.readUInt32BE(p) + shift, p);
      p += 4;
    }
    const extents = meta.readUInt16BE(p);
    p += 2;
    for (let e = 0; e < extents; e++) {
      if (offsetSize === 4 && baseOffsetSize === 0) meta.writeUInt32BE(meta.readUInt32BE(p) + shift, p);
      p += offsetSize + lengthSize;
    }
  }
}

/** irot: `quarterTurns` × 90° counter-clockwise. */
export const irot = (quarterTurns: number) => box('irot', Buffer.from([quarterTurns & 3]));


/**
 * A small HEIC (as heif-enc writes it: ftyp, meta, mdat) with item properties added to its
 * primary image (irot, imir, colr…), box sizes and item offsets fixed up: heif-enc 1.15
 * writes no transformation property, so files with `irot` are made this way from real HEVC files.
 */
/** `heic` with `props` appended to ipco and associated (in order, last) with its primary item. */
export function withPrimaryProperties(heic: Buffer, props: Buffer[]): Buffer {
  return withIprp(heic, (ipco, ipma, primary) => {
    const existing = children(heic, ipco.start + 8, ipco.end);
    return {
      ipco: box('ipco', Buffer.concat([heic.subarray(ipco.start + 8, ipco.end), ...props])),
      ipma: rewriteIpma(heic, ipma, primary, props.map((_, i) => existing.length + 1 + i)),
    };
  });
}

/**
 * `heic` with each item property of type `type` replaced by `replace(property)` (same index, so
 * every association stays), box sizes and item offsets fixed up: e.g. a `colr prof` of a
 * heif-enc file made a `colr nclx`, which heif-enc 1.15 writes for no input.
 */
export function withPropertiesReplaced(heic: Buffer, type: string, replace: (property: Buffer) => Buffer): Buffer {
  return withIprp(heic, (ipco, ipma) => ({
    ipco: box(
      'ipco',
      Buffer.concat(children(heic, ipco.start + 8, ipco.end).map((p) => (p.type === type ? replace(heic.subarray(p.start, p.end)) : heic.subarray(p.start, p.end)))),
    ),
    ipma: Buffer.from(heic.subarray(ipma.start, ipma.end)),
  }));
}

/** colr nclx: H.273 colour primaries, transfer characteristics, matrix coefficients and range. */
export function nclx(primaries: number, transfer: number, matrix: number, fullRange: boolean): Buffer {
  const body = Buffer.alloc(11);
  body.write('nclx', 0, 'latin1');
  body.writeUInt16BE(primaries, 4);
  body.writeUInt16BE(transfer, 6);
  body.writeUInt16BE(matrix, 8);
  body[10] = fullRange ? 0x80 : 0;
  return box('colr', body);
}

/**
 * `heic` (one image, as heif-enc writes it) as a collection of `1 + copies` top-level images, as a
 * burst or a multi-photo HEIC holds: each copy is a new `hvc1` item with the primary's data
 * (iloc extents) and properties (ipma), so every image is valid and decodable.
 */
export function withImageCopies(heic: Buffer, copies: number): Buffer {
  const top = children(heic, 0, heic.length);
  const meta = find(top, 'meta');
  const metaKids = children(heic, meta.start + 12, meta.end);
  const pitm = find(metaKids, 'pitm');
  const primary = heic.readUInt16BE(pitm.start + 12);
  const iinf = find(metaKids, 'iinf');
  const iloc = find(metaKids, 'iloc');
  if (heic[pitm.start + 8] !== 0 || heic[iinf.start + 8] !== 0 || heic[iloc.start + 8] > 1) throw new Error('unexpected pitm/iinf/iloc version');
  const ids = Array.from({ length: copies }, (_, i) => 0x1000 + i); // above heif-enc's item ids
  const withId = (entry: Buffer, id: number) => {
    const copy = Buffer.from(entry);
    copy.writeUInt16BE(id, 0);
    return copy;
  };

  const infes = ids.map((id) => {
    const body = Buffer.alloc(13);
    body[0] = 2; // version 2: item id (16 bit), protection index, item type, name
    body.writeUInt16BE(id, 4);
    body.write('hvc1', 8, 'latin1');
    return box('infe', body);
  });
  const iinfHead = Buffer.from(heic.subarray(iinf.start + 8, iinf.start + 14));
  iinfHead.writeUInt16BE(iinfHead.readUInt16BE(4) + copies, 4);
  const newIinf = box('iinf', Buffer.concat([iinfHead, heic.subarray(iinf.start + 14, iinf.end), ...infes]));

  const ilocEntries = ilocEntrySlices(heic, iloc);
  const primaryLoc = ilocEntries.find((e) => e.readUInt16BE(0) === primary);
  if (!primaryLoc) throw new Error('no iloc entry for the primary item');
  const ilocHead = Buffer.from(heic.subarray(iloc.start + 8, iloc.start + 16));
  ilocHead.writeUInt16BE(ilocEntries.length + copies, 6);
  const newIloc = box('iloc', Buffer.concat([ilocHead, ...ilocEntries, ...ids.map((id) => withId(primaryLoc, id))]));

  const iprp = find(metaKids, 'iprp');
  const iprpKids = children(heic, iprp.start + 8, iprp.end);
  const ipma = find(iprpKids, 'ipma');
  if (heic[ipma.start + 8] !== 0) throw new Error('unexpected ipma version');
  const wide = (heic[ipma.start + 11] & 1) === 1;
  const ipmaEntries: Buffer[] = [];
  for (let p = ipma.start + 16, i = 0; i < heic.readUInt32BE(ipma.start + 12); i++) {
    const length = 3 + heic[p + 2] * (wide ? 2 : 1);
    ipmaEntries.push(Buffer.from(heic.subarray(p, p + length)));
    p += length;
  }
  const primaryProps = ipmaEntries.find((e) => e.readUInt16BE(0) === primary);
  if (!primaryProps) throw new Error('no ipma entry for the primary item');
  const ipmaHead = Buffer.from(heic.subarray(ipma.start + 8, ipma.start + 16));
  ipmaHead.writeUInt32BE(ipmaEntries.length + copies, 4);
  const newIpma = box('ipma', Buffer.concat([ipmaHead, ...ipmaEntries, ...ids.map((id) => withId(primaryProps, id))]));
  const newIprp = box('iprp', Buffer.concat(iprpKids.map((k) => (k.type === 'ipma' ? newIpma : heic.subarray(k.start, k.end)))));

  const replaced: Record<string, Buffer> = { iinf: newIinf, iloc: newIloc, iprp: newIprp };
  const newMeta = box(
    'meta',
    Buffer.concat([heic.subarray(meta.start + 8, meta.start + 12), ...metaKids.map((k) => replaced[k.type] ?? Buffer.from(heic.subarray(k.start, k.end)))]),
  );
  shiftIlocOffsets(newMeta, newMeta.length - (meta.end - meta.start));
  return Buffer.concat([heic.subarray(0, meta.start), newMeta, heic.subarray(meta.end)]);
}

/** The entries of an iloc box (version 0/1, no index field), each as its bytes. */
function ilocEntrySlices(b: Buffer, iloc: BoxRef): Buffer[] {
  const version = b[iloc.start + 8];
  let p = iloc.start + 12;
  const offsetSize = b[p] >> 4;
  const lengthSize = b[p] & 15;
  const baseOffsetSize = b[p + 1] >> 4;
  if (version >= 1 && (b[p + 1] & 15) !== 0) throw new Error('unexpected iloc index size');
  p += 2;
  const count = b.readUInt16BE(p);
  p += 2;
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const at = p;
    p += 2 + (version >= 1 ? 2 : 0) + 2 + baseOffsetSize;
    const extents = b.readUInt16BE(p);
    p += 2 + extents * (offsetSize + lengthSize);
    out.push(Buffer.from(b.subarray(at, p)));
  }
  return out;
}

/** `heic` with its iprp's ipco and ipma rebuilt by `rebuild`, and meta's size and iloc's offsets fixed up. */
function withIprp(heic: Buffer, rebuild: (ipco: BoxRef, ipma: BoxRef, primary: number) => { ipco: Buffer; ipma: Buffer }): Buffer {
  const top = children(heic, 0, heic.length);
  const meta = find(top, 'meta');
  const metaKids = children(heic, meta.start + 12, meta.end);
  const pitm = find(metaKids, 'pitm');
  const primary = heic[pitm.start + 8] === 0 ? heic.readUInt16BE(pitm.start + 12) : heic.readUInt32BE(pitm.start + 12);
  const iprp = find(metaKids, 'iprp');
  const iprpKids = children(heic, iprp.start + 8, iprp.end);
  const rebuilt = rebuild(find(iprpKids, 'ipco'), find(iprpKids, 'ipma'), primary);
  const newIprp = box(
    'iprp',
    Buffer.concat(iprpKids.map((k) => (k.type === 'ipco' ? rebuilt.ipco : k.type === 'ipma' ? rebuilt.ipma : heic.subarray(k.start, k.end)))),
  );
  const newMeta = box(
    'meta',
    Buffer.concat([
      heic.subarray(meta.start + 8, meta.start + 12),
      ...metaKids.map((k) => (k.type === 'iprp' ? newIprp : Buffer.from(heic.subarray(k.start, k.end)))),
    ]),
  );
  shiftIlocOffsets(newMeta, newMeta.length - (meta.end - meta.start));
  return Buffer.concat([heic.subarray(0, meta.start), newMeta, heic.subarray(meta.end)]);
}

function rewriteIpma(b: Buffer, ipma: BoxRef, item: number, indices: number[]): Buffer {
  const version = b[ipma.start + 8];
  const flags = b[ipma.start + 11];
  let p = ipma.start + 12;
  const count = b.readUInt32BE(p);
  p += 4;
  const entries: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const at = p;
    const id = version < 1 ? b.readUInt16BE(p) : b.readUInt32BE(p);
    p += version < 1 ? 2 : 4;
    const n = b[p];
    const idBytes = b.subarray(at, p);
    p += 1;
    const assoc = b.subarray(p, p + n * (flags & 1 ? 2 : 1));
    p += assoc.length;
    if (id !== item) {
      entries.push(Buffer.from(b.subarray(at, p)));
      continue;
    }
    const extra = Buffer.alloc(indices.length * (flags & 1 ? 2 : 1));
    indices.forEach((index, k) => (flags & 1 ? extra.writeUInt16BE(0x8000 | index, k * 2) : (extra[k] = 0x80 | index)));
    entries.push(Buffer.concat([idBytes, Buffer.from([n + indices.length]), assoc, extra]));
  }
  const head = Buffer.from(b.subarray(ipma.start + 8, ipma.start + 16));
  return box('ipma', Buffer.concat([head, ...entries]));
}

/** Plain text, whatever name it is uploaded under. */
export function textFile(): Buffer {
  return Buffer.from('This is not an image, whatever its name says.\n'.repeat(20), 'utf8');
}

export function svg(): Buffer {
  return Buffer.from(
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="100" height="100" fill="red"/></svg>\n',
    'utf8',
  );
}

/**
 * A valid JPEG padded with trailing bytes up to exactly `targetBytes` (decoders ignore data
 * after EOI). For the upload size limit, which is decided before the content matters.
 */
export function bigJpeg(targetBytes: number): Promise<Buffer> {
  return memo(`big-jpeg:${targetBytes}`, async () => {
    const head = await jpeg(640, 480, { seed: 5 });
    if (head.length >= targetBytes) return head.subarray(0, targetBytes);
    // A 64 KiB block of seeded noise, repeated natively: a per-byte JS loop over 10 MiB is slow under jest.
    const block = Buffer.alloc(64 * 1024);
    const rand = prng(targetBytes);
    for (let i = 0; i < block.length; i += 4) block.writeUInt32LE(Math.floor(rand() * 0x100000000), i);
    return Buffer.concat([head, Buffer.alloc(targetBytes - head.length, block)]);
  });
}

/** Hex sha256, as the API reports it. */
export function sha256(bytes: Buffer | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A multipart form as a browser sends it: optional text fields, then the file part.
 * The declared content type defaults to one that says nothing, since Pixmill decides the
 * type from the bytes.
 */
export function uploadForm(
  bytes: Buffer,
  filename = 'upload.bin',
  opts: { contentType?: string; fields?: Record<string, string> } = {},
): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(opts.fields ?? {})) form.append(name, value);
  form.append('file', new Blob([new Uint8Array(bytes)], { type: opts.contentType ?? 'application/octet-stream' }), filename);
  return form;
}

/**
 * A multipart body written byte for byte, for what FormData would escape or refuse: a file
 * name with directory parts and control characters goes out exactly as given, and `fields`
 * (before the file) may carry their own Content-Type, which FormData cannot give a text field.
 */
export function rawMultipart(
  bytes: Buffer,
  filename: string,
  contentType = 'image/jpeg',
  fields: { name: string; value: string; contentType?: string }[] = [],
): { body: Buffer; contentType: string } {
  const boundary = `----pixmill-test-${sha256(bytes).slice(0, 16)}`;
  const fieldParts = fields.map(
    (f) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${f.name}"\r\n` +
      `${f.contentType ? `Content-Type: ${f.contentType}\r\n` : ''}\r\n${f.value}\r\n`,
  );
  const head = Buffer.from(
    `${fieldParts.join('')}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${contentType}\r\n\r\n`,
    'utf8', // as browsers send non-ASCII names
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  return { body: Buffer.concat([head, bytes, tail]), contentType: `multipart/form-data; boundary=${boundary}` };
}
