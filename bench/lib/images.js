// Deterministic, photo-like bench inputs: a seeded PRNG drives smooth "scene" blobs
// (a tiny random image upscaled with a cubic kernel), a diagonal light gradient and
// fine sensor-like noise. Same seed, same bytes, on every run and machine (for a
// given sharp/libvips version).
const { root } = require('../../scripts/ensure-build');

const sharp = require(require.resolve('sharp', { paths: [root] }));

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Raw RGB pixels (Buffer, width*height*3) of a photo-like scene. */
async function scene(width, height, seed) {
  const rand = prng(seed);
  // Coarse random colour field (about 40 blobs across) upscaled smoothly.
  const cw = Math.max(4, Math.round(width / 64));
  const ch = Math.max(4, Math.round(height / 64));
  const coarse = Buffer.alloc(cw * ch * 3);
  for (let i = 0; i < coarse.length; i++) coarse[i] = Math.floor(rand() * 256);
  const smooth = await sharp(coarse, { raw: { width: cw, height: ch, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'cubic' })
    .raw()
    .toBuffer();
  // Medium-scale texture (edges and detail that a resize kernel must work on).
  const mw = Math.max(8, Math.round(width / 6));
  const mh = Math.max(8, Math.round(height / 6));
  const mid = Buffer.alloc(mw * mh);
  for (let i = 0; i < mid.length; i++) mid[i] = Math.floor(rand() * 256);
  const texture = await sharp(mid, { raw: { width: mw, height: mh, channels: 1 } })
    .resize(width, height, { fit: 'fill', kernel: 'nearest' })
    .blur(1.2)
    .raw()
    .toBuffer();
  const out = Buffer.allocUnsafe(width * height * 3);
  const gx = 60 / width;
  const gy = 40 / height;
  for (let y = 0, p = 0, q = 0; y < height; y++) {
    for (let x = 0; x < width; x++, q++) {
      const light = x * gx + y * gy - 50;
      const tex = (texture[q] - 128) * 0.25;
      for (let c = 0; c < 3; c++, p++) {
        const v = smooth[p] * 0.8 + light + tex + (rand() - 0.5) * 12;
        out[p] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return out;
}

async function photoJpeg(width, height, seed, quality = 90) {
  const raw = await scene(width, height, seed);
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality }).toBuffer();
}

async function photoPng(width, height, seed) {
  const raw = await scene(width, height, seed);
  return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

module.exports = { prng, scene, photoJpeg, photoPng, sharp };
