import { deflateSync } from 'node:zlib';
import sharp from 'sharp';

/** Test inputs made with sharp (nothing from the shared corpus is committed). */

/** Coloured noise: realistic for encoders and stats, unlike flat colour. */
export function noise(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .png()
    .toBuffer();
}

/** Left half red, right half blue (or top/bottom when `vertical`). */
export function twoColour(width: number, height: number, vertical = false): Promise<Buffer> {
  const half = vertical
    ? { width, height: Math.floor(height / 2) }
    : { width: Math.floor(width / 2), height };
  return sharp({ create: { width, height, channels: 3, background: '#ff0000' } })
    .composite([
      {
        input: { create: { ...half, channels: 3, background: '#0000ff' } },
        left: vertical ? 0 : width - half.width,
        top: vertical ? height - half.height : 0,
      },
    ])
    .png()
    .toBuffer();
}

/**
 * Left half red, right half blue (800×600 by default), with a green `square`
 * px square in the centre: where a crop window was taken shows in its colours.
 */
export async function redBlueGreenCentre(width = 800, height = 600, square = 100): Promise<Buffer> {
  return sharp(await twoColour(width, height))
    .composite([
      {
        input: { create: { width: square, height: square, channels: 3, background: '#00ff00' } },
        left: Math.floor((width - square) / 2),
        top: Math.floor((height - square) / 2),
      },
    ])
    .png()
    .toBuffer();
}

/** Flat grey with one patch of coloured noise: the only detail a smart crop can find. */
export async function greyWithDetail(
  width: number,
  height: number,
  patch: { left: number; top: number; width: number; height: number },
): Promise<Buffer> {
  const detail = await sharp({
    create: { width: patch.width, height: patch.height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } },
  })
    .png()
    .toBuffer();
  return sharp({ create: { width, height, channels: 3, background: '#808080' } })
    .composite([{ input: detail, left: patch.left, top: patch.top }])
    .png()
    .toBuffer();
}

/** A horizontal gradient with some texture, as JPEG. */
export async function gradientJpeg(width: number, height: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      raw[i] = Math.round((x / width) * 255);
      raw[i + 1] = Math.round((y / height) * 255);
      raw[i + 2] = (x * 7 + y * 13) % 256;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

/** An animated GIF of `frames` solid frames in different colours. */
export async function animatedGif(frames: number, width = 32, height = 24): Promise<Buffer> {
  const colours = ['#ff0000', '#00ff00', '#0000ff', '#ffff00', '#00ffff', '#ff00ff'];
  const inputs = await Promise.all(
    Array.from({ length: frames }, (_, i) =>
      sharp({ create: { width, height, channels: 4, background: colours[i % colours.length] } })
        .png()
        .toBuffer(),
    ),
  );
  return sharp(inputs, { join: { animated: true } })
    .gif({ delay: Array(frames).fill(100), loop: 0 })
    .toBuffer();
}

/** A valid 1×1 PNG whose IHDR then claims `width` × `height` (CRC fixed), like a decompression bomb header. */
export function pngClaiming(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.from([0, 0]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** RGB(A) of the pixel at (x, y). */
export async function pixel(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [...data.subarray(i, i + info.channels)];
}

/** CIE L*a*b* (D65) of an 8-bit sRGB colour. */
export function srgbToLab([r, g, b]: number[]): [number, number, number] {
  const lin = (c: number) => {
    const v = c / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const [R, G, B] = [lin(r), lin(g), lin(b)];
  const x = (0.4124 * R + 0.3576 * G + 0.1805 * B) / 0.95047;
  const y = 0.2126 * R + 0.7152 * G + 0.0722 * B;
  const z = (0.0193 * R + 0.1192 * G + 0.9505 * B) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}

/** ΔE*76 (Euclidean distance in L*a*b*) of two 8-bit sRGB colours. */
export function deltaE(a: number[], b: number[]): number {
  const [p, q] = [srgbToLab(a), srgbToLab(b)];
  return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
}
