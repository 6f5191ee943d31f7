import { open } from 'node:fs/promises';
import { ImageCorruptException, ImageTooLargeException, UnsupportedMediaTypeException } from '@pixmill/common';

/**
 * The HEIF box structure (ISO/IEC 23008-12, ISO BMFF) of an HEIC, read without
 * decoding any pixel: what the upload needs (size, orientation, image count,
 * limits) and what the decoder's output lacks (ICC profile, alpha, EXIF
 * orientation). Every read is bounded: the meta box at most META_MAX_BYTES,
 * at most MAX_BOXES children per box and MAX_ITEMS items, and every offset is
 * checked against the file before it is followed.
 */
export interface HeifHeader {
  primaryItemId: number;
  /** `hvc1` (one HEVC image) or `grid` (tiles of HEVC images, as phones write). */
  primaryType: string;
  /** Coded size (ispe), before the file's transformations. */
  codedWidth: number;
  codedHeight: number;
  /** Size as displayed: after clap and irot, and after the EXIF orientation when there is no irot/imir. */
  width: number;
  height: number;
  /** irot: counter-clockwise degrees. */
  rotation: 0 | 90 | 180 | 270;
  /** imir present: the decoder mirrors. */
  mirror: boolean;
  /** irot, imir or clap on the primary image: libheif applies them, so EXIF orientation must not be applied too. */
  hasTransform: boolean;
  /** EXIF orientation 1–8 of the primary image's Exif item, or null. */
  exifOrientation: number | null;
  /** The Exif item as `Exif\0\0` + TIFF, or null. */
  exif: Buffer | null;
  /** The embedded ICC profile (colr prof/rICC), or null. */
  icc: Buffer | null;
  /** colr nclx (H.273 code points), or null. */
  nclx: { primaries: number; transfer: number; matrix: number; fullRange: boolean } | null;
  hasAlpha: boolean;
  /** Top-level images (not thumbnails, alpha planes or grid tiles); the primary is the one rendered. */
  imageCount: number;
  /** Coded images that decode into the primary (1, or the grid's tiles). */
  tiles: number;
}

export interface HeifHeaderLimits {
  /** MAX_INPUT_PIXELS: checked on the primary image's size and its grid's. */
  maxInputPixels: number;
  /** MAX_ANIMATION_FRAMES: the most top-level images a file may carry. */
  maxImages?: number;
}

const META_MAX_BYTES = 16 * 1024 * 1024;
const EXIF_MAX_BYTES = 1024 * 1024;
const MAX_BOXES = 10_000;
const MAX_ITEMS = 10_000;
const MAX_EXTENTS = 1024;
const MAX_TILES = 256 * 256;
const IMAGE_TYPES = new Set(['hvc1', 'grid', 'iden', 'iovl', 'av01', 'jpeg', 'unci', 'vvc1', 'avc1', 'j2k1']);
const ALPHA_URNS = new Set(['urn:mpeg:hevc:2015:auxid:1', 'urn:mpeg:mpegB:cicp:systems:auxiliary:alpha']);

const corrupt = (why: string) => new ImageCorruptException(`The HEIF structure is invalid: ${why}.`);

/** Bytes of the file, read only where asked. */
interface Source {
  size: number;
  read(offset: number, length: number): Promise<Buffer>;
}

/** Bounds-checked big-endian reads; any read past the end is a corrupt file, not a RangeError. */
class Reader {
  constructor(
    readonly b: Buffer,
    public p = 0,
    readonly end = b.length,
  ) {}
  need(n: number): void {
    if (n < 0 || this.p + n > this.end) throw corrupt('a box ends early');
  }
  u8(): number {
    this.need(1);
    return this.b[this.p++];
  }
  u16(): number {
    this.need(2);
    const v = this.b.readUInt16BE(this.p);
    this.p += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.b.readUInt32BE(this.p);
    this.p += 4;
    return v;
  }
  /** An unsigned integer of 0, 4 or 8 bytes (iloc's field sizes). */
  uint(size: number): number {
    if (size === 0) return 0;
    if (size === 4) return this.u32();
    if (size === 8) {
      const hi = this.u32();
      const lo = this.u32();
      if (hi > 0x1fffff) throw corrupt('an offset is out of range');
      return hi * 2 ** 32 + lo;
    }
    throw corrupt(`a field size of ${size} bytes`);
  }
  fourcc(): string {
    this.need(4);
    const v = this.b.toString('latin1', this.p, this.p + 4);
    this.p += 4;
    return v;
  }
  cstring(): string {
    const zero = this.b.indexOf(0, this.p);
    if (zero === -1 || zero >= this.end) throw corrupt('a string has no end');
    const v = this.b.toString('utf8', this.p, zero);
    this.p = zero + 1;
    return v;
  }
  fullBox(): { version: number; flags: number } {
    const version = this.u8();
    const flags = (this.u8() << 16) | this.u16();
    return { version, flags };
  }
}

interface Box {
  type: string;
  /** Body start and end (after the size/type header), offsets into the buffer. */
  start: number;
  end: number;
}

/** The child boxes of b[start, end). */
function boxes(b: Buffer, start: number, end: number): Box[] {
  const out: Box[] = [];
  const r = new Reader(b, start, end);
  while (r.p < end) {
    if (out.length >= MAX_BOXES) throw corrupt('too many boxes');
    const at = r.p;
    let size = r.u32();
    const type = r.fourcc();
    if (size === 1) size = r.uint(8);
    else if (size === 0) size = end - at;
    if (size < r.p - at || at + size > end) throw corrupt(`the ${JSON.stringify(type)} box does not fit`);
    out.push({ type, start: r.p, end: at + size });
    r.p = at + size;
  }
  return out;
}

interface Item {
  id: number;
  type: string;
  /** construction method 0 (file offsets) or 1 (idat). */
  method: number;
  extents: { offset: number; length: number }[];
  props: number[];
}

/**
 * Parses the header of an HEIC (Buffer, or a path read in bounded pieces) and
 * applies the pixel and image-count limits. Throws ImageCorruptException for a
 * malformed structure (truncated boxes, item data outside the file, missing
 * decoder configuration), ImageTooLargeException over a limit, and
 * UnsupportedMediaTypeException for a primary image Pixmill cannot decode.
 */
export async function parseHeifHeader(input: Buffer | string, limits: HeifHeaderLimits): Promise<HeifHeader> {
  if (Buffer.isBuffer(input)) return parse(bufferSource(input), limits);
  let file;
  try {
    file = await open(input, 'r');
  } catch {
    throw new ImageCorruptException('The image could not be read.');
  }
  try {
    const size = (await file.stat()).size;
    const source: Source = {
      size,
      async read(offset, length) {
        const out = Buffer.alloc(length);
        const { bytesRead } = await file.read(out, 0, length, offset);
        if (bytesRead !== length) throw corrupt('the file ends early');
        return out;
      },
    };
    return await parse(source, limits);
  } finally {
    await file.close();
  }
}

function bufferSource(b: Buffer): Source {
  return {
    size: b.length,
    async read(offset, length) {
      if (offset + length > b.length) throw corrupt('the file ends early');
      return b.subarray(offset, offset + length);
    },
  };
}

async function parse(src: Source, limits: HeifHeaderLimits): Promise<HeifHeader> {
  // Top level: walk box headers only, up to the meta box.
  let meta: Buffer | null = null;
  let ftypSeen = false;
  for (let at = 0, n = 0; at < src.size && meta === null; n++) {
    if (n >= MAX_BOXES) throw corrupt('too many top-level boxes');
    if (src.size - at < 8) throw corrupt('a box header is cut off');
    const head = new Reader(await src.read(at, Math.min(16, src.size - at)));
    let size = head.u32();
    const type = head.fourcc();
    if (size === 1) size = head.uint(8);
    else if (size === 0) size = src.size - at;
    if (size < head.p || at + size > src.size) throw corrupt(`the top-level ${JSON.stringify(type)} box does not fit in the file`);
    if (n === 0 && type !== 'ftyp') throw corrupt('the file does not start with ftyp');
    if (type === 'ftyp') ftypSeen = true;
    if (type === 'meta') {
      if (size > META_MAX_BYTES) throw corrupt('the meta box is too large');
      meta = await src.read(at, size);
      meta = meta.subarray(head.p);
    }
    at += size;
  }
  if (!ftypSeen || meta === null) throw corrupt('no meta box');

  const metaReader = new Reader(meta);
  metaReader.fullBox();
  const kids = boxes(meta, metaReader.p, meta.length);
  const child = (type: string) => kids.find((k) => k.type === type);

  const hdlr = child('hdlr');
  if (!hdlr) throw corrupt('no hdlr box');
  const hr = new Reader(meta, hdlr.start, hdlr.end);
  hr.fullBox();
  hr.u32();
  if (hr.fourcc() !== 'pict') throw corrupt('the handler is not pict');

  const pitm = child('pitm');
  if (!pitm) throw corrupt('no primary item (pitm)');
  const pr = new Reader(meta, pitm.start, pitm.end);
  const primaryItemId = pr.fullBox().version === 0 ? pr.u16() : pr.u32();

  const items = new Map<number, Item>();
  const item = (id: number) => {
    let it = items.get(id);
    if (!it) {
      if (items.size >= MAX_ITEMS) throw corrupt('too many items');
      it = { id, type: '', method: 0, extents: [], props: [] };
      items.set(id, it);
    }
    return it;
  };

  const iinf = child('iinf');
  if (!iinf) throw corrupt('no item information (iinf)');
  const ir = new Reader(meta, iinf.start, iinf.end);
  const iinfVersion = ir.fullBox().version;
  // The entry count is not trusted: the infe boxes themselves are what counts.
  if (iinfVersion === 0) ir.u16();
  else ir.u32();
  for (const infe of boxes(meta, ir.p, iinf.end)) {
    if (infe.type !== 'infe') continue;
    const r = new Reader(meta, infe.start, infe.end);
    const { version } = r.fullBox();
    if (version < 2) continue; // no item type: not an image item
    const id = version === 2 ? r.u16() : r.u32();
    r.u16(); // protection index
    item(id).type = r.fourcc();
  }

  const iloc = child('iloc');
  if (!iloc) throw corrupt('no item locations (iloc)');
  {
    const r = new Reader(meta, iloc.start, iloc.end);
    const { version } = r.fullBox();
    if (version > 2) throw corrupt(`iloc version ${version}`);
    const sizes = r.u16();
    const offsetSize = sizes >> 12;
    const lengthSize = (sizes >> 8) & 15;
    const baseOffsetSize = (sizes >> 4) & 15;
    const indexSize = version >= 1 ? sizes & 15 : 0;
    const count = version < 2 ? r.u16() : r.u32();
    if (count > MAX_ITEMS) throw corrupt('too many item locations');
    for (let i = 0; i < count; i++) {
      const id = version < 2 ? r.u16() : r.u32();
      const method = version >= 1 ? r.u16() & 15 : 0;
      r.u16(); // data reference index
      const base = r.uint(baseOffsetSize);
      const extentCount = r.u16();
      if (extentCount > MAX_EXTENTS) throw corrupt('too many extents');
      const it = item(id);
      it.method = method;
      for (let e = 0; e < extentCount; e++) {
        if (indexSize > 0) r.uint(indexSize);
        const offset = base + r.uint(offsetSize);
        const length = r.uint(lengthSize);
        it.extents.push({ offset, length });
      }
    }
  }

  // Properties: ipco holds them (1-based), ipma associates them with items.
  const iprp = child('iprp');
  if (!iprp) throw corrupt('no item properties (iprp)');
  const iprpKids = boxes(meta, iprp.start, iprp.end);
  const ipco = iprpKids.find((k) => k.type === 'ipco');
  if (!ipco) throw corrupt('no property container (ipco)');
  const props = boxes(meta, ipco.start, ipco.end);
  for (const ipma of iprpKids.filter((k) => k.type === 'ipma')) {
    const r = new Reader(meta, ipma.start, ipma.end);
    const { version, flags } = r.fullBox();
    const entries = r.u32();
    if (entries > MAX_ITEMS) throw corrupt('too many property associations');
    for (let i = 0; i < entries; i++) {
      const id = version < 1 ? r.u16() : r.u32();
      const n = r.u8();
      const it = item(id);
      for (let a = 0; a < n; a++) {
        const index = flags & 1 ? r.u16() & 0x7fff : r.u8() & 0x7f;
        if (index === 0) continue; // "no property"
        if (index > props.length) throw corrupt('an item refers to a property that does not exist');
        it.props.push(index - 1);
      }
    }
  }

  // References: thmb/auxl/dimg/cdsc from → to.
  const refs: { type: string; from: number; to: number[] }[] = [];
  const iref = child('iref');
  if (iref) {
    const r = new Reader(meta, iref.start, iref.end);
    const { version } = r.fullBox();
    for (const ref of boxes(meta, r.p, iref.end)) {
      const rr = new Reader(meta, ref.start, ref.end);
      const from = version === 0 ? rr.u16() : rr.u32();
      const n = rr.u16();
      const to: number[] = [];
      for (let i = 0; i < n; i++) to.push(version === 0 ? rr.u16() : rr.u32());
      refs.push({ type: ref.type, from, to });
    }
  }
  const idat = child('idat');

  const primary = items.get(primaryItemId);
  if (!primary || !primary.type) throw corrupt('the primary item is not described');
  const prop = (it: Item, type: string) => {
    const i = it.props.find((p) => props[p].type === type);
    return i === undefined ? undefined : props[i];
  };
  const propReader = (box: Box) => new Reader(meta!, box.start, box.end);

  const sizeOf = (it: Item): { width: number; height: number } => {
    const ispe = prop(it, 'ispe');
    if (!ispe) throw corrupt(`item ${it.id} has no size (ispe)`);
    const r = propReader(ispe);
    r.fullBox();
    const width = r.u32();
    const height = r.u32();
    if (!(width > 0 && height > 0)) throw corrupt('the image has no dimensions');
    return { width, height };
  };
  const checkPixels = (width: number, height: number) => {
    if (width * height > limits.maxInputPixels) {
      throw new ImageTooLargeException(`The image has ${width * height} pixels; the limit is ${limits.maxInputPixels}.`);
    }
  };
  const dataOf = (it: Item): { offset: number; length: number }[] => {
    if (it.extents.length === 0) throw corrupt(`item ${it.id} has no data`);
    if (it.method === 1) {
      if (!idat) throw corrupt('item data in a missing idat');
      return it.extents.map((e) => {
        if (e.offset + e.length > idat.end - idat.start) throw corrupt(`item ${it.id} lies outside idat`);
        return { offset: idat.start + e.offset, length: e.length };
      });
    }
    if (it.method !== 0) throw new UnsupportedMediaTypeException('This HEIF item construction is not supported.');
    for (const e of it.extents) {
      if (e.length === 0 && it.extents.length === 1) {
        // length 0: to the end of the file
        if (e.offset >= src.size) throw corrupt(`item ${it.id} lies outside the file`);
      } else if (e.length === 0 || e.offset + e.length > src.size) {
        throw corrupt(`item ${it.id} lies outside the file (truncated?)`);
      }
    }
    return it.extents;
  };
  const checkHevc = (it: Item) => {
    if (it.type !== 'hvc1') throw new UnsupportedMediaTypeException(`HEIF images of type ${JSON.stringify(it.type)} are not supported.`);
    const hvcC = prop(it, 'hvcC');
    if (!hvcC) throw corrupt(`item ${it.id} has no HEVC configuration (hvcC)`);
    const r = propReader(hvcC);
    if (r.u8() !== 1) throw corrupt('unknown hvcC version');
    r.need(21);
    r.p += 21;
    const arrays = r.u8();
    const nals = new Set<number>();
    for (let a = 0; a < arrays; a++) {
      const type = r.u8() & 0x3f;
      const count = r.u16();
      for (let n = 0; n < count; n++) {
        const len = r.u16();
        r.need(len);
        r.p += len;
        if (len > 0) nals.add(type);
      }
    }
    // 32 VPS, 33 SPS, 34 PPS: without them the HEVC data cannot be decoded.
    if (!nals.has(33) || !nals.has(34)) throw corrupt(`item ${it.id} has no HEVC parameter sets`);
    dataOf(it);
  };

  const coded = sizeOf(primary);
  checkPixels(coded.width, coded.height);
  let tiles = 1;
  if (primary.type === 'grid') {
    const dimg = refs.find((r) => r.type === 'dimg' && r.from === primary.id);
    if (!dimg || dimg.to.length === 0) throw corrupt('the grid has no tiles');
    const extents = dataOf(primary);
    const g = new Reader(await readExtents(src, meta, idat, primary.method, extents, 64));
    g.u8(); // version
    const large = g.u8() & 1;
    const rows = g.u8() + 1;
    const cols = g.u8() + 1;
    const outW = large ? g.u32() : g.u16();
    const outH = large ? g.u32() : g.u16();
    checkPixels(outW, outH);
    if (rows * cols !== dimg.to.length || rows * cols > MAX_TILES) throw corrupt('the grid and its tiles disagree');
    let tilePixels = 0;
    for (const id of dimg.to) {
      const tile = items.get(id);
      if (!tile) throw corrupt('a grid tile does not exist');
      checkHevc(tile);
      const t = sizeOf(tile);
      tilePixels += t.width * t.height;
      if (tilePixels > limits.maxInputPixels * 2) throw new ImageTooLargeException('The image’s tiles have more pixels than allowed.');
    }
    tiles = dimg.to.length;
  } else {
    checkHevc(primary);
  }

  // Transformations, in the order listed, as libheif applies them.
  let rotation: 0 | 90 | 180 | 270 = 0;
  let mirror = false;
  let width = coded.width;
  let height = coded.height;
  let hasTransform = false;
  for (const p of primary.props) {
    const box = props[p];
    if (box.type === 'irot') {
      rotation = (((propReader(box).u8() & 3) * 90) as 0 | 90 | 180 | 270);
      if (rotation === 90 || rotation === 270) [width, height] = [height, width];
      hasTransform = true;
    } else if (box.type === 'imir') {
      mirror = true;
      hasTransform = true;
    } else if (box.type === 'clap') {
      const r = propReader(box);
      const frac = () => {
        const n = r.u32();
        const d = r.u32();
        return d === 0 ? 0 : n / d;
      };
      const w = Math.round(frac());
      const h = Math.round(frac());
      if (w > 0 && h > 0 && w <= width && h <= height) [width, height] = [w, h];
      hasTransform = true;
    }
  }

  let icc: Buffer | null = null;
  let nclx: HeifHeader['nclx'] = null;
  for (const p of primary.props) {
    if (props[p].type !== 'colr') continue;
    const r = propReader(props[p]);
    const kind = r.fourcc();
    if ((kind === 'prof' || kind === 'rICC') && !icc) icc = Buffer.from(meta.subarray(r.p, props[p].end));
    else if (kind === 'nclx' && !nclx) nclx = { primaries: r.u16(), transfer: r.u16(), matrix: r.u16(), fullRange: (r.u8() & 0x80) !== 0 };
  }

  const hidden = new Set<number>();
  let hasAlpha = false;
  for (const ref of refs) {
    if (ref.type === 'thmb' || ref.type === 'auxl') hidden.add(ref.from);
    if (ref.type === 'dimg') for (const id of ref.to) hidden.add(id);
    if (ref.type === 'auxl' && ref.to.includes(primary.id)) {
      const aux = items.get(ref.from);
      const auxC = aux && prop(aux, 'auxC');
      if (auxC) {
        const r = propReader(auxC);
        r.fullBox();
        if (ALPHA_URNS.has(r.cstring())) hasAlpha = true;
      }
    }
  }
  let imageCount = 0;
  for (const it of items.values()) if (IMAGE_TYPES.has(it.type) && !hidden.has(it.id)) imageCount++;
  if (limits.maxImages !== undefined && imageCount > limits.maxImages) {
    throw new ImageTooLargeException(`The image has ${imageCount} images; the limit is ${limits.maxImages}.`);
  }

  let exif: Buffer | null = null;
  const exifRef = refs.find((r) => r.type === 'cdsc' && r.to.includes(primary.id) && items.get(r.from)?.type === 'Exif');
  const exifItem = exifRef ? items.get(exifRef.from) : [...items.values()].find((it) => it.type === 'Exif');
  if (exifItem && exifItem.extents.length > 0) {
    const extents = dataOf(exifItem);
    const total = extents.reduce((s, e) => s + e.length, 0);
    if (total > 4 && total <= EXIF_MAX_BYTES) {
      const data = await readExtents(src, meta, idat, exifItem.method, extents, total);
      const skip = data.readUInt32BE(0); // offset of the TIFF header after these 4 bytes
      if (4 + skip < data.length) {
        const tiff = data.subarray(4 + skip);
        exif = tiff.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? tiff : Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
      }
    }
  }
  const exifOrientation = exif ? readOrientation(exif.subarray(6)) : null;
  if (!hasTransform && exifOrientation !== null && exifOrientation >= 5) [width, height] = [height, width];

  return {
    primaryItemId,
    primaryType: primary.type,
    codedWidth: coded.width,
    codedHeight: coded.height,
    width,
    height,
    rotation,
    mirror,
    hasTransform,
    exifOrientation,
    exif,
    icc,
    nclx,
    hasAlpha,
    imageCount,
    tiles,
  };
}

/** The first `max` bytes of an item's data (its extents in order), from the file or from idat. */
async function readExtents(
  src: Source,
  meta: Buffer,
  idat: Box | undefined,
  method: number,
  extents: { offset: number; length: number }[],
  max: number,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  let left = max;
  for (const e of extents) {
    if (left <= 0) break;
    const length = Math.min(e.length === 0 ? src.size - e.offset : e.length, left);
    parts.push(method === 1 && idat ? meta.subarray(e.offset, e.offset + length) : await src.read(e.offset, length));
    left -= length;
  }
  return Buffer.concat(parts);
}

/** EXIF orientation (tag 0x0112 of IFD0) from a TIFF block, or null. */
function readOrientation(tiff: Buffer): number | null {
  if (tiff.length < 8) return null;
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return null;
  const le = order === 'II';
  const u16 = (o: number) => (le ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const u32 = (o: number) => (le ? tiff.readUInt32LE(o) : tiff.readUInt32BE(o));
  const ifd = u32(4);
  if (ifd < 8 || ifd + 2 > tiff.length) return null;
  const n = Math.min(u16(ifd), 1000);
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > tiff.length) return null;
    if (u16(e) === 0x0112) {
      const v = u16(e + 8);
      return v >= 1 && v <= 8 ? v : null;
    }
  }
  return null;
}
