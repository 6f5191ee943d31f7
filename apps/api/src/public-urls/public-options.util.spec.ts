import { parseQuerySpec } from '@pixmill/imaging';
import { acceptClass, applyDpr, autoFormat, readPublicOptions } from './public-options.util';

describe('public URL options', () => {
  it('reads exp, dpr and format=auto apart from the spec', () => {
    const o = readPublicOptions(new URLSearchParams('resize=300x200&format=auto&dpr=2&exp=1900000000'));
    expect(o).toEqual({ exp: 1900000000, dpr: 2, autoFormat: true, specEntries: [['resize', '300x200']] });
  });

  it.each(['dpr=0', 'dpr=5', 'dpr=4.5', 'dpr=x', 'exp=soon', 'wait=3', 'webhookUrl=https://x.example', 'format=auto&format=png'])(
    'refuses %s',
    (q) => {
      expect(() => readPublicOptions(new URLSearchParams(q))).toThrow(expect.objectContaining({ code: 'validation_failed' }));
    },
  );

  it('format=auto follows Accept: avif, then webp, then jpeg (png for images with alpha)', () => {
    const chrome = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
    expect(autoFormat(chrome, 'png', true)).toBe('avif');
    expect(autoFormat('image/webp,*/*', 'png', true)).toBe('webp');
    expect(autoFormat('image/avif;q=0,image/webp', 'jpeg', false)).toBe('webp');
    expect(autoFormat('image/jpeg,*/*', 'jpeg', false)).toBe('jpeg');
    expect(autoFormat(undefined, 'jpeg', false)).toBe('jpeg');
    expect(autoFormat('*/*', 'png', false)).toBe('jpeg');
    expect(autoFormat('*/*', 'png', true)).toBe('png');
    expect(autoFormat('*/*', 'webp', true)).toBe('png');
    expect([acceptClass(chrome), acceptClass('image/webp'), acceptClass('*/*')]).toEqual(['avif', 'webp', 'other']);
  });

  it('format=auto on an image stored before alpha was recorded (null): jpeg only for a jpeg input', () => {
    expect(autoFormat('*/*', 'jpeg', null)).toBe('jpeg');
    expect(autoFormat('*/*', 'png', null)).toBe('png');
    expect(autoFormat('*/*', 'gif', null)).toBe('png');
    expect(autoFormat('image/webp', 'png', null)).toBe('webp');
  });

  it('dpr multiplies resize and crop sizes, capped at the input unless enlargement is asked for', () => {
    const input = { width: 1000, height: 800 };
    const spec = parseQuerySpec(new URLSearchParams('resize=300x200&crop=100x100+10+20&resize=50%'));
    const out = applyDpr(spec, 2, input);
    expect(out.operations).toEqual([
      { op: 'resize', width: 600, height: 400 },
      { op: 'crop', x: 20, y: 40, width: 200, height: 200 },
      { op: 'resize', scale: 50 },
    ]);
    const big = parseQuerySpec(new URLSearchParams('resize=600x'));
    expect(applyDpr(big, 3, input).operations[0]).toMatchObject({ width: 1000 });
    const enlarge = { operations: [{ op: 'resize' as const, width: 600, withoutEnlargement: false }], output: {} };
    expect(applyDpr(enlarge, 3, input).operations[0]).toMatchObject({ width: 1800 });
    expect(applyDpr(spec, 1, input)).toBe(spec);
  });
});
