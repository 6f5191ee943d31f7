export interface Rgba {
  r: number;
  g: number;
  b: number;
  /** 0–1 */
  alpha: number;
}

const HEX = /^#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i;
const RGBA = /^rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,\s*(\d*\.?\d+)\s*)?\)$/i;

/** Parses the colour syntaxes the spec accepts: `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`, `rgb(…)`, `rgba(…)`. */
export function parseColor(value: string): Rgba | null {
  if (typeof value !== 'string') return null;
  const v = value.trim();
  const hex = HEX.exec(v);
  if (hex) {
    let h = hex[1];
    if (h.length <= 4) h = [...h].map((c) => c + c).join('');
    const n = (i: number) => parseInt(h.slice(i, i + 2), 16);
    return { r: n(0), g: n(2), b: n(4), alpha: h.length === 8 ? Math.round((n(6) / 255) * 1000) / 1000 : 1 };
  }
  const rgba = RGBA.exec(v);
  if (rgba) {
    const [r, g, b] = [rgba[1], rgba[2], rgba[3]].map(Number);
    const alpha = rgba[4] === undefined ? 1 : Number(rgba[4]);
    if (r > 255 || g > 255 || b > 255 || !(alpha >= 0 && alpha <= 1)) return null;
    return { r, g, b, alpha };
  }
  return null;
}

/** One spelling per colour (`#rrggbb` or `#rrggbbaa`, lower case) so equal colours hash equal. */
export function normalizeColor(value: string): string {
  const c = parseColor(value);
  if (!c) return value;
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  const a = c.alpha >= 1 ? '' : hex(Math.round(c.alpha * 255));
  return `#${hex(c.r)}${hex(c.g)}${hex(c.b)}${a}`;
}
