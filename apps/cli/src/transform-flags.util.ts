/**
 * The query-syntax keys of `GET /v1/images/{id}/transform` (SPEC §4), offered as `pixmill transform`
 * flags, and `preset` (SPEC §8): a preset's operations run first, then the flags' own.
 */
export const TRANSFORM_FLAGS = [
  ['preset', 'name of one of your presets (/v1/presets)'],
  ['resize', 'WxH | Wx | xH | N%'],
  ['fit', 'cover | contain | fill | inside | outside'],
  ['crop', 'WxH+X+Y | WxH | WxH:gravity'],
  ['rotate', 'degrees'],
  ['flip', 'vertical | horizontal'],
  ['mirror', 'true'],
  ['grayscale', 'true'],
  ['sepia', 'true'],
  ['blur', 'sigma'],
  ['sharpen', 'true | sigma'],
  ['brightness', 'factor'],
  ['saturation', 'factor'],
  ['contrast', 'factor'],
  ['watermark', 'text:Hello | image:{id}'],
  ['format', 'jpeg | png | webp | avif | gif'],
  ['quality', '1-100'],
  ['compress', 'true'],
] as const;

/**
 * The transform flags of argv in the order given (the query syntax applies operations in
 * query order, and keys may repeat), as query pairs.
 */
export function transformQueryFromArgv(argv: string[]): Array<[string, string]> {
  const keys = new Set<string>(TRANSFORM_FLAGS.map(([k]) => k));
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m || !keys.has(m[1])) continue;
    const value = m[2] ?? (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[++i] : 'true');
    pairs.push([m[1], value]);
  }
  return pairs;
}
