/**
 * Rewrites the box structure of a small HEIC (as heif-enc writes it: ftyp, meta, mdat)
 * for tests: adds item properties to the primary image (irot, imir, colr…) with the
 * box sizes and item offsets fixed up. heif-enc 1.15 writes no transformation property,
 * so files with `irot` are made this way from real HEVC files.
 */

export function box(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

/** irot: `quarterTurns` × 90° counter-clockwise. */
export const irot = (quarterTurns: number) => box('irot', Buffer.from([quarterTurns & 3]));

interface Ref {
  type: string;
  start: number;
  end: number;
}

function children(b: Buffer, start: number, end: number): Ref[] {
  const out: Ref[] = [];
  for (let p = start; p + 8 <= end; ) {
    const size = b.readUInt32BE(p);
    if (size < 8) throw new Error('unsupported box size');
    out.push({ type: b.toString('latin1', p + 4, p + 8), start: p, end: p + size });
    p += size;
  }
  return out;
}

const find = (refs: Ref[], type: string) => {
  const hit = refs.find((r) => r.type === type);
  if (!hit) throw new Error(`no ${type} box`);
  return hit;
};

/** The HEIC with `props` appended to ipco and associated (in order, last) with its primary item. */
export function withPrimaryProperties(heic: Buffer, props: Buffer[]): Buffer {
  const top = children(heic, 0, heic.length);
  const meta = find(top, 'meta');
  const metaKids = children(heic, meta.start + 12, meta.end);
  const pitm = find(metaKids, 'pitm');
  const primary = heic[pitm.start + 8] === 0 ? heic.readUInt16BE(pitm.start + 12) : heic.readUInt32BE(pitm.start + 12);
  const iprp = find(metaKids, 'iprp');
  const iprpKids = children(heic, iprp.start + 8, iprp.end);
  const ipco = find(iprpKids, 'ipco');
  const existing = children(heic, ipco.start + 8, ipco.end);
  const newIpco = box('ipco', Buffer.concat([heic.subarray(ipco.start + 8, ipco.end), ...props]));
  const newIpma = rewriteIpma(heic, find(iprpKids, 'ipma'), primary, props.map((_, i) => existing.length + 1 + i));
  const newIprp = box(
    'iprp',
    Buffer.concat(iprpKids.map((k) => (k.type === 'ipco' ? newIpco : k.type === 'ipma' ? newIpma : heic.subarray(k.start, k.end)))),
  );
  const newMeta = box(
    'meta',
    Buffer.concat([
      heic.subarray(meta.start + 8, meta.start + 12),
      ...metaKids.map((k) => (k.type === 'iprp' ? newIprp : Buffer.from(heic.subarray(k.start, k.end)))),
    ]),
  );
  shiftIloc(newMeta, newMeta.length - (meta.end - meta.start), meta.start);
  return Buffer.concat([heic.subarray(0, meta.start), newMeta, heic.subarray(meta.end)]);
}

function rewriteIpma(b: Buffer, ipma: Ref, item: number, indices: number[]): Buffer {
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

/** Moves every file offset in iloc (inside `meta`) that points past the meta box start by `shift`. */
function shiftIloc(meta: Buffer, shift: number, metaAt: number): void {
  const iloc = find(children(meta, 12, meta.length), 'iloc');
  let p = iloc.start + 8;
  const version = meta[p];
  p += 4;
  const offsetSize = meta[p] >> 4;
  const lengthSize = meta[p] & 15;
  const baseSize = meta[p + 1] >> 4;
  const indexSize = version >= 1 ? meta[p + 1] & 15 : 0;
  p += 2;
  const count = version < 2 ? meta.readUInt16BE(p) : meta.readUInt32BE(p);
  p += version < 2 ? 2 : 4;
  const move = (at: number, size: number) => {
    if (size === 4 && meta.readUInt32BE(at) > metaAt) meta.writeUInt32BE(meta.readUInt32BE(at) + shift, at);
    else if (size === 8) throw new Error('8-byte iloc offsets are not handled');
  };
  for (let i = 0; i < count; i++) {
    p += version < 2 ? 2 : 4;
    const method = version >= 1 ? meta.readUInt16BE(p) & 15 : 0;
    if (version >= 1) p += 2;
    p += 2;
    if (method === 0) move(p, baseSize);
    p += baseSize;
    const extents = meta.readUInt16BE(p);
    p += 2;
    for (let e = 0; e < extents; e++) {
      p += indexSize;
      if (method === 0 && baseSize === 0) move(p, offsetSize);
      p += offsetSize + lengthSize;
    }
  }
}
