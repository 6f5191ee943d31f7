import { ValidationFailedException } from '@pixmill/common';
import { parseSpec } from './parse-spec.util';
import { parseQuerySpec, QUERY_CONTROL_KEYS, QUERY_SPEC_KEYS } from './query-spec.parser';

const q = (query: string) => parseQuerySpec(new URLSearchParams(query));
function errorsOf(query: string): { field: string; message: string }[] {
  try {
    q(query);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationFailedException);
    return (e as ValidationFailedException).errors ?? [];
  }
  throw new Error('expected a validation error');
}

describe('parseQuerySpec', () => {
  it('reads crop=300x200+10+20 typed as is, whose + a query string decodes to spaces', () => {
    const region = { operations: [{ op: 'crop', x: 10, y: 20, width: 300, height: 200 }] };
    expect(q('crop=300x200+10+20')).toEqual(parseSpec(region));
    expect(q('crop=300x200%2B10%2B20')).toEqual(parseSpec(region));
  });

  it('parses every key, in query order, into the same spec as the JSON form', () => {
    const query =
      'resize=300x200&fit=cover&crop=100x80%2B10%2B20&crop=50x50&crop=40x40:attention&rotate=90' +
      '&flip=vertical&flip=horizontal&mirror=true&grayscale=true&sepia=true&blur=1.5&sharpen=true&sharpen=2' +
      '&brightness=1.2&saturation=0.8&contrast=1.5&watermark=text:Hello:World' +
      '&format=webp&quality=70&compress=true&wait=5&webhookUrl=https%3A%2F%2Fexample.com';
    const json = {
      operations: [
        { op: 'resize', width: 300, height: 200, fit: 'cover' },
        { op: 'crop', x: 10, y: 20, width: 100, height: 80 },
        { op: 'crop', width: 50, height: 50 },
        { op: 'crop', width: 40, height: 40, gravity: 'attention' },
        { op: 'rotate', angle: 90 },
        { op: 'flip' },
        { op: 'mirror' },
        { op: 'mirror' },
        { op: 'grayscale' },
        { op: 'sepia' },
      ],
      output: { format: 'webp', quality: 70, compress: true },
    };
    expect(q(query.replace(/&blur.*World/, ''))).toEqual(parseSpec({ ...json, operations: json.operations }));
    expect(q('blur=1.5&sharpen=true&sharpen=2&brightness=1.2&saturation=0.8&contrast=1.5&watermark=text:Hello:World')).toEqual(
      parseSpec({
        operations: [
          { op: 'blur', sigma: 1.5 },
          { op: 'sharpen' },
          { op: 'sharpen', sigma: 2 },
          { op: 'modulate', brightness: 1.2, saturation: 0.8 },
          { op: 'contrast', factor: 1.5 },
          { op: 'watermark', text: 'Hello:World' },
        ],
      }),
    );
  });

  it('parses every resize form', () => {
    expect(q('resize=300x').operations).toEqual([{ op: 'resize', width: 300 }]);
    expect(q('resize=x200').operations).toEqual([{ op: 'resize', height: 200 }]);
    expect(q('resize=50%').operations).toEqual([{ op: 'resize', scale: 50 }]);
    expect(q('resize=12.5%25').operations).toEqual([{ op: 'resize', scale: 12.5 }]);
  });

  it('applies fit to the preceding resize, or to the only one when it comes first', () => {
    expect(q('fit=contain&resize=10x10').operations).toEqual([{ op: 'resize', width: 10, height: 10, fit: 'contain' }]);
    expect(q('resize=10x10&resize=5x5&fit=fill').operations).toEqual([
      { op: 'resize', width: 10, height: 10 },
      { op: 'resize', width: 5, height: 5, fit: 'fill' },
    ]);
    expect(errorsOf('fit=cover')).toEqual([{ field: 'fit', message: expect.any(String) }]);
    expect(errorsOf('resize=1x1&fit=cover&fit=fill').map((e) => e.field)).toEqual(['fit']);
    expect(errorsOf('resize=1x1&fit=squash').map((e) => e.field)).toEqual(['fit']);
  });

  it('merges consecutive brightness/saturation, and only consecutive ones', () => {
    expect(q('saturation=2&brightness=0.5').operations).toEqual([{ op: 'modulate', saturation: 2, brightness: 0.5 }]);
    expect(q('brightness=1.1&brightness=1.2').operations).toEqual([
      { op: 'modulate', brightness: 1.1 },
      { op: 'modulate', brightness: 1.2 },
    ]);
    expect(q('brightness=1.1&grayscale=true&saturation=2').operations).toHaveLength(3);
  });

  it('parses watermark images, flip and boolean false', () => {
    const id = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
    expect(q(`watermark=image:${id}`).operations).toEqual([{ op: 'watermark', imageId: id }]);
    expect(q('grayscale=false&sepia=false&mirror=false&compress=false')).toEqual({ operations: [], output: { compress: false } });
  });

  it('accepts the array form and ignores wait/webhookUrl', () => {
    expect(parseQuerySpec([['rotate', '45'], ['wait', '30'], ['webhookUrl', 'x']])).toEqual({
      operations: [{ op: 'rotate', angle: 45 }],
      output: {},
    });
  });

  it.each([
    ['resize=abc', 'resize'],
    ['resize=x', 'resize'],
    ['resize=0x10', 'resize'],
    ['resize=9000x', 'resize'],
    ['resize=500%', 'resize'],
    ['crop=10x', 'crop'],
    ['crop=10x10:middle', 'crop'],
    ['crop=10x10+1', 'crop'],
    ['rotate=right', 'rotate'],
    ['flip=both', 'flip'],
    ['mirror=yes', 'mirror'],
    ['grayscale=1', 'grayscale'],
    ['sepia=', 'sepia'],
    ['blur=0.1', 'blur'],
    ['blur=abc', 'blur'],
    ['sharpen=sharp', 'sharpen'],
    ['sharpen=50', 'sharpen'],
    ['brightness=9', 'brightness'],
    ['saturation=-1', 'saturation'],
    ['contrast=x', 'contrast'],
    ['watermark=Hello', 'watermark'],
    ['watermark=image:123', 'watermark'],
    ['watermark=text:', 'watermark'],
    ['format=bmp', 'format'],
    ['quality=0', 'quality'],
    ['quality=high', 'quality'],
    ['compress=1', 'compress'],
    ['format=png&format=webp', 'format'],
    ['width=100', 'width'],
    ['hue=30', 'hue'],
  ])('rejects %s with field %s', (query, field) => {
    expect(errorsOf(query).map((e) => e.field)).toEqual([field]);
  });

  it('knows every key it lists (the transform route documents these)', () => {
    for (const key of [...QUERY_SPEC_KEYS, ...QUERY_CONTROL_KEYS]) {
      let messages: string[] = [];
      try {
        q(`${key}=%00`);
      } catch (e) {
        messages = ((e as ValidationFailedException).errors ?? []).map((err) => err.message);
      }
      expect({ key, messages }).toEqual({ key, messages: expect.not.arrayContaining([`unknown parameter ${key}`]) });
    }
    expect(errorsOf('bogus=1')).toEqual([{ field: 'bogus', message: 'unknown parameter bogus' }]);
  });

  it('lists every bad key at once', () => {
    expect(errorsOf('resize=0x0&rotate=x&quality=500&foo=1').map((e) => e.field).sort()).toEqual(
      ['foo', 'quality', 'resize', 'rotate'].sort(),
    );
  });
});
