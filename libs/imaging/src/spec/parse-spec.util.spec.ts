import { ValidationFailedException } from '@pixmill/common';
import { parseSpec } from './parse-spec.util';

function errorsOf(body: unknown): { field: string; message: string }[] {
  try {
    parseSpec(body);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationFailedException);
    return (e as ValidationFailedException).errors ?? [];
  }
  throw new Error('expected a validation error');
}
const fields = (body: unknown) => errorsOf(body).map((e) => e.field);
const op = (o: Record<string, unknown>) => ({ operations: [o] });

describe('parseSpec', () => {
  it('accepts the SPEC §4 example and returns plain data', () => {
    const body = {
      operations: [
        { op: 'resize', width: 800, height: 600, fit: 'cover' },
        { op: 'rotate', angle: 90 },
        { op: 'watermark', text: '© me', gravity: 'southeast', opacity: 0.5 },
      ],
      output: { format: 'webp', quality: 80 },
    };
    const spec = parseSpec(body);
    expect(spec).toEqual(body);
    expect(Object.getPrototypeOf(spec.operations[0])).toBe(Object.prototype);
  });

  it('accepts an empty spec (pure re-encode) and fills operations/output', () => {
    expect(parseSpec({})).toEqual({ operations: [], output: {} });
  });

  it('accepts every op in its valid form', () => {
    const ops = [
      { op: 'resize', width: 1 },
      { op: 'resize', height: 8192 },
      { op: 'resize', scale: 1 },
      { op: 'resize', scale: 400, fit: 'outside', withoutEnlargement: true, background: '#fff' },
      { op: 'crop', x: 0, y: 0, width: 10, height: 10 },
      { op: 'crop', width: 10, height: 10, gravity: 'attention' },
      { op: 'crop', width: 10, height: 10 },
      { op: 'rotate', angle: -45.5, background: 'rgba(0,0,0,0.5)' },
      { op: 'flip' },
      { op: 'mirror' },
      { op: 'grayscale' },
      { op: 'sepia' },
      { op: 'blur', sigma: 0.3 },
    ];
    const more = [
      { op: 'sharpen' },
      { op: 'sharpen', sigma: 2 },
      { op: 'modulate', brightness: 0, saturation: 5, hue: 180 },
      { op: 'contrast', factor: 0 },
      { op: 'watermark', imageId: '3f2504e0-4f89-41d3-9a0c-0305e82c3301', opacity: 0, size: 1 },
      { op: 'watermark', text: 'x'.repeat(200), color: '#ffffff80', size: 100, opacity: 1, gravity: 'northwest' },
    ];
    expect(parseSpec({ operations: ops.slice(0, 10) }).operations).toHaveLength(10);
    expect(parseSpec({ operations: [...ops.slice(10), ...more] }).operations).toHaveLength(9);
  });

  it.each([
    ['resize width', { op: 'resize', width: 0 }, { op: 'resize', width: 8193 }, 'width'],
    ['resize height', { op: 'resize', height: 0 }, { op: 'resize', height: 8193 }, 'height'],
    ['resize scale', { op: 'resize', scale: 0.9 }, { op: 'resize', scale: 400.1 }, 'scale'],
    ['blur sigma', { op: 'blur', sigma: 0.29 }, { op: 'blur', sigma: 100.01 }, 'sigma'],
    ['modulate brightness', { op: 'modulate', brightness: -0.01 }, { op: 'modulate', brightness: 5.01 }, 'brightness'],
    ['modulate saturation', { op: 'modulate', saturation: -1 }, { op: 'modulate', saturation: 6 }, 'saturation'],
    ['contrast factor', { op: 'contrast', factor: -0.1 }, { op: 'contrast', factor: 5.1 }, 'factor'],
    ['watermark opacity', { op: 'watermark', text: 'a', opacity: -0.1 }, { op: 'watermark', text: 'a', opacity: 1.1 }, 'opacity'],
    ['watermark size', { op: 'watermark', text: 'a', size: 0.5 }, { op: 'watermark', text: 'a', size: 101 }, 'size'],
    ['crop x', { op: 'crop', x: -1, y: 0, width: 1, height: 1 }, { op: 'crop', x: 70000, y: 0, width: 1, height: 1 }, 'x'],
    ['crop width', { op: 'crop', width: 0, height: 1 }, { op: 'crop', width: 70000, height: 1 }, 'width'],
  ])('rejects %s below and above its range', (_name, below, above, field) => {
    expect(fields(op(below))).toEqual([`operations[0].${field}`]);
    expect(fields(op(above))).toEqual([`operations[0].${field}`]);
  });

  it.each([
    [{ output: { quality: 0 } }, 'output.quality'],
    [{ output: { quality: 101 } }, 'output.quality'],
    [{ output: { quality: 50.5 } }, 'output.quality'],
    [{ output: { format: 'bmp' } }, 'output.format'],
    [{ output: { compress: 'yes' } }, 'output.compress'],
    [{ output: { lossless: 1 } }, 'output.lossless'],
    [{ output: { progressive: null } }, 'output.progressive'],
    [{ output: { extra: true } }, 'output.extra'],
    [{ output: [] }, 'output'],
  ])('rejects output %j', (body, field) => {
    expect(fields(body)).toEqual([field]);
  });

  it('accepts output edges', () => {
    for (const format of ['jpeg', 'png', 'webp', 'avif', 'gif']) {
      expect(parseSpec({ output: { format, quality: 1 } }).output.format).toBe(format);
    }
    expect(parseSpec({ output: { quality: 100, compress: true, lossless: false, progressive: true } }).output.quality).toBe(100);
  });

  it.each([
    [{ op: 'resize' }, 'width', 'needs width'],
    [{ op: 'resize', width: 10, scale: 50 }, 'scale', 'cannot be combined'],
    [{ op: 'resize', width: 10, fit: 'stretch' }, 'fit', 'one of'],
    [{ op: 'resize', width: '10' }, 'width', 'integer'],
    [{ op: 'resize', width: 10.5 }, 'width', 'integer'],
    [{ op: 'resize', width: null }, 'width', 'integer'],
    [{ op: 'resize', width: 10, background: 'red' }, 'background', 'colour'],
    [{ op: 'resize', width: 10, withoutEnlargement: 'true' }, 'withoutEnlargement', 'boolean'],
    [{ op: 'crop', width: 10 }, 'height', 'required'],
    [{ op: 'crop', x: 1, width: 10, height: 10 }, 'y', 'required'],
    [{ op: 'crop', width: 10, height: 10, gravity: 'middle' }, 'gravity', 'one of'],
    [{ op: 'rotate' }, 'angle', 'required'],
    [{ op: 'rotate', angle: 'ninety' }, 'angle', 'number'],
    [{ op: 'rotate', angle: 90, background: '#12' }, 'background', 'colour'],
    [{ op: 'blur' }, 'sigma', 'required'],
    [{ op: 'sharpen', sigma: 0.1 }, 'sigma', 'less than'],
    [{ op: 'modulate' }, 'brightness', 'needs'],
    [{ op: 'modulate', hue: 1.5 }, 'hue', 'integer'],
    [{ op: 'contrast' }, 'factor', 'required'],
    [{ op: 'watermark' }, 'text', 'needs text or imageId'],
    [{ op: 'watermark', text: 'a', imageId: '3f2504e0-4f89-41d3-9a0c-0305e82c3301' }, 'imageId', 'not both'],
    [{ op: 'watermark', text: 'x'.repeat(201) }, 'text', 'shorter'],
    [{ op: 'watermark', text: '' }, 'text', 'longer'],
    [{ op: 'watermark', imageId: 'not-a-uuid' }, 'imageId', 'UUID'],
    [{ op: 'watermark', text: 'a', gravity: 'attention' }, 'gravity', 'one of'],
    [{ op: 'watermark', text: 'a', color: 'rgba(300,0,0,1)' }, 'color', 'colour'],
    [{ op: 'flip', axis: 'x' }, 'axis', 'should not exist'],
    [{ op: 'grayscale', amount: 1 }, 'amount', 'should not exist'],
  ])('rejects %j at %s', (o, field, message) => {
    const errors = errorsOf(op(o));
    expect(errors).toEqual([{ field: `operations[0].${field}`, message: expect.stringContaining(message) }]);
  });

  it('rejects unknown ops, non-object ops and a missing op', () => {
    expect(fields({ operations: [{ op: 'explode' }, 3, { width: 1 }, null] })).toEqual([
      'operations[0].op',
      'operations[1]',
      'operations[2].op',
      'operations[3]',
    ]);
    expect(fields(op({ op: 'toString' }))).toEqual(['operations[0].op']);
  });

  it('lists every bad field at once', () => {
    const errors = errorsOf({
      operations: [{ op: 'resize', width: 0, height: 9000, fit: 'x', foo: 1 }, { op: 'blur', sigma: 0 }, { op: 'nope' }],
      output: { quality: 0, format: 'bmp' },
      webhookUrl: 'https://x',
    });
    expect(errors.map((e) => e.field).sort()).toEqual(
      [
        'webhookUrl',
        'operations[0].width',
        'operations[0].height',
        'operations[0].fit',
        'operations[0].foo',
        'operations[1].sigma',
        'operations[2].op',
        'output.quality',
        'output.format',
      ].sort(),
    );
  });

  it('rejects non-object bodies, a non-array operations and more than 10 operations', () => {
    for (const body of [null, [], 'x', 3, undefined]) expect(fields(body)).toEqual(['body']);
    expect(fields({ operations: {} })).toEqual(['operations']);
    expect(fields({ operations: Array(11).fill({ op: 'flip' }) })).toEqual(['operations']);
    expect(parseSpec({ operations: Array(10).fill({ op: 'flip' }) }).operations).toHaveLength(10);
    expect(parseSpec({ operations: [] }).operations).toEqual([]);
  });

  it('rejects a __proto__ key instead of letting it change prototypes', () => {
    const body = JSON.parse('{"operations":[{"op":"resize","width":10,"__proto__":{"polluted":true}}]}');
    expect(fields(body)).toEqual(['operations[0].__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
