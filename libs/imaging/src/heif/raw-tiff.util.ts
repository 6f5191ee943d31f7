/**
 * An uncompressed little-endian TIFF of 8-bit RGBA pixels (alpha dropped unless
 * `alpha`), one strip, with an optional ICC profile (tag 34675) and orientation
 * (tag 274): how decoded HEIC pixels reach sharp with their colour profile,
 * which sharp's raw input cannot carry.
 */
export function rawTiff(
  rgba: Buffer,
  width: number,
  height: number,
  options: { alpha: boolean; icc?: Buffer | null; orientation?: number },
): Buffer {
  const channels = options.alpha ? 4 : 3;
  const pixels = width * height;
  const icc = options.icc ?? null;
  // tag, type (3 SHORT, 4 LONG, 7 UNDEFINED), count, value (or offset, filled below)
  const entries: [number, number, number, number][] = [
    [256, 4, 1, width],
    [257, 4, 1, height],
    [258, 3, channels, 0], // BitsPerSample: offset to `channels` SHORTs of 8
    [259, 3, 1, 1], // no compression
    [262, 3, 1, 2], // RGB
    [273, 4, 1, 0], // StripOffsets
    [274, 3, 1, options.orientation ?? 1],
    [277, 3, 1, channels],
    [278, 4, 1, height],
    [279, 4, 1, pixels * channels],
    [284, 3, 1, 1], // chunky
  ];
  if (options.alpha) entries.push([338, 3, 1, 2]); // unassociated alpha
  if (icc) entries.push([34675, 7, icc.length, 0]);
  const ifdSize = 2 + entries.length * 12 + 4;
  const bpsAt = 8 + ifdSize;
  const iccAt = bpsAt + channels * 2;
  const dataAt = iccAt + (icc ? icc.length + (icc.length & 1) : 0);
  const out = Buffer.alloc(dataAt + pixels * channels);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(8, 4);
  out.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, count, value], i) => {
    const at = 10 + i * 12;
    if (tag === 258) value = bpsAt;
    if (tag === 273) value = dataAt;
    if (tag === 34675) value = iccAt;
    out.writeUInt16LE(tag, at);
    out.writeUInt16LE(type, at + 2);
    out.writeUInt32LE(count, at + 4);
    if (type === 3 && count === 1) out.writeUInt16LE(value, at + 8);
    else out.writeUInt32LE(value, at + 8);
  });
  for (let c = 0; c < channels; c++) out.writeUInt16LE(8, bpsAt + c * 2);
  if (icc) icc.copy(out, iccAt);
  if (channels === 4) rgba.copy(out, dataAt, 0, pixels * 4);
  else {
    for (let i = 0, o = dataAt, n = pixels * 4; i < n; i += 4, o += 3) {
      out[o] = rgba[i];
      out[o + 1] = rgba[i + 1];
      out[o + 2] = rgba[i + 2];
    }
  }
  return out;
}
