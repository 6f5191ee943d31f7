import { normalizeColor, parseColor } from './color.util';
import { outputExtension, outputMimeType } from './output-format.util';
import { parseQuerySpec } from './query-spec.parser';
import { RENDERER_VERSION, canonicalSpec, specHash } from './spec-hash.util';
import { Operation, TransformationSpec } from './transformation-spec.types';

const spec = (operations: unknown[], output: object = {}) => ({ operations, output }) as TransformationSpec;

describe('canonicalSpec / specHash', () => {
  it('fills defaults and sorts keys', () => {
    const c = canonicalSpec(
      spec([
        { op: 'resize', width: 10 },
        { op: 'crop', width: 5, height: 5 },
        { op: 'watermark', text: 'hi' },
        { op: 'modulate', brightness: 2 },
        { op: 'rotate', angle: -90 },
      ]),
      'jpeg',
    );
    expect(c).toEqual({
      operations: [
        { op: 'resize', width: 10, fit: 'inside', withoutEnlargement: false },
        { op: 'crop', width: 5, height: 5, gravity: 'center' },
        { op: 'watermark', text: 'hi', color: '#ffffff', gravity: 'southeast', opacity: 0.5, size: 20 },
        { op: 'modulate', brightness: 2, saturation: 1, hue: 0 },
        { op: 'rotate', angle: 270 },
      ],
      output: { format: 'jpeg', quality: 80, compress: false, progressive: false },
    });
    expect(Object.keys(c.operations[0])).toEqual(['fit', 'op', 'width', 'withoutEnlargement']);
    expect(Object.keys(c)).toEqual(['operations', 'output']);
  });

  it('defaults the output format to the input, heic/tiff to jpeg, svg to png; quality per format', () => {
    expect(canonicalSpec(spec([]), 'webp').output).toEqual({ format: 'webp', quality: 80, compress: false, lossless: false });
    expect(canonicalSpec(spec([]), 'avif').output.quality).toBe(50);
    expect(canonicalSpec(spec([]), 'heic').output.format).toBe('jpeg');
    expect(canonicalSpec(spec([]), 'tiff').output.format).toBe('jpeg');
    expect(canonicalSpec(spec([]), 'svg').output.format).toBe('png');
    expect(canonicalSpec(spec([]), 'png').output).toEqual({ format: 'png', compress: false, progressive: false });
    expect(canonicalSpec(spec([]), 'gif').output).toEqual({ format: 'gif', compress: false });
  });

  it('hashes equivalent specs equally', () => {
    const a = specHash(spec([{ op: 'resize', width: 300, height: 200 }], { format: 'webp' }), 'jpeg');
    const equivalents = [
      spec([{ height: 200, width: 300, fit: 'inside', op: 'resize' }], { quality: 80, format: 'webp' }),
      spec([{ op: 'resize', width: 300, height: 200, withoutEnlargement: false }], { format: 'webp', compress: false, lossless: false }),
      { output: { format: 'webp' }, operations: [{ op: 'resize', height: 200, width: 300 }] } as TransformationSpec,
      parseQuerySpec(new URLSearchParams('resize=300x200&format=webp')),
      parseQuerySpec(new URLSearchParams('format=webp&resize=300x200&fit=inside&quality=80')),
    ];
    for (const s of equivalents) expect(specHash(s, 'jpeg')).toBe(a);
    // webp input: format defaults to webp, so omitting it is the same spec
    expect(specHash(spec([{ op: 'resize', width: 300, height: 200 }]), 'webp')).toBe(a);
    expect(specHash(spec([{ op: 'rotate', angle: 450, background: '#FFF' }]), 'png')).toBe(
      specHash(spec([{ op: 'rotate', angle: 90, background: 'rgb(255,255,255)' }]), 'png'),
    );
    expect(specHash(spec([], { format: 'png', quality: 40 }), 'png')).toBe(specHash(spec([]), 'png'));
  });

  it('gives the crop query syntax the hash of its JSON form (gravity center by default)', () => {
    const query = (q: string) => specHash(parseQuerySpec(new URLSearchParams(q)), 'jpeg');
    const center = specHash(spec([{ op: 'crop', width: 300, height: 200 }]), 'jpeg');
    expect(query('crop=300x200')).toBe(center);
    expect(query('crop=300x200:center')).toBe(center);
    expect(specHash(spec([{ op: 'crop', width: 300, height: 200, gravity: 'center' }]), 'jpeg')).toBe(center);
    const attention = query('crop=300x200:attention');
    expect(attention).toBe(specHash(spec([{ op: 'crop', width: 300, height: 200, gravity: 'attention' }]), 'jpeg'));
    expect(new Set([center, attention, query('crop=300x200:entropy'), query('crop=300x200%2B0%2B0')]).size).toBe(4);
  });

  it('hashes different specs differently', () => {
    const base = spec([{ op: 'resize', width: 300 }]);
    const hashes = [
      specHash(base, 'jpeg'),
      specHash(base, 'png'),
      specHash(spec([{ op: 'resize', width: 301 }]), 'jpeg'),
      specHash(spec([{ op: 'resize', width: 300, fit: 'cover' }]), 'jpeg'),
      specHash(spec([{ op: 'resize', width: 300 }], { quality: 81 }), 'jpeg'),
      specHash(spec([{ op: 'resize', width: 300 }, { op: 'flip' }]), 'jpeg'),
      specHash(spec([{ op: 'flip' }, { op: 'resize', width: 300 }]), 'jpeg'),
      specHash(spec([{ op: 'resize', width: 300 }], { compress: true }), 'jpeg'),
    ];
    expect(new Set(hashes).size).toBe(hashes.length);
    expect(hashes[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(RENDERER_VERSION).toBeGreaterThan(0);
  });

  it('hashes the newer operations and keepProfile by what they render', () => {
    const base = spec([{ op: 'resize', width: 300 }]);
    // keepProfile: false is the default and leaves the hash as it was before the option existed.
    expect(specHash(spec([{ op: 'resize', width: 300 }], { keepProfile: false }), 'jpeg')).toBe(specHash(base, 'jpeg'));
    expect(specHash(spec([{ op: 'resize', width: 300 }], { keepProfile: true }), 'jpeg')).not.toBe(specHash(base, 'jpeg'));
    const same = (a: Operation, b: Operation) => expect(specHash(spec([a]), 'png')).toBe(specHash(spec([b]), 'png'));
    same({ op: 'extend', all: 5 }, { op: 'extend', top: 5, right: 5, bottom: 5, left: 5, background: '#000' });
    same({ op: 'extend', all: 5, top: 1 }, { op: 'extend', top: 1, right: 5, bottom: 5, left: 5, extendWith: 'background' });
    same({ op: 'trim' }, { op: 'trim', threshold: 10 });
    same({ op: 'roundCorners', radius: 4 }, { op: 'roundCorners', radius: 4, unit: 'px' });
    same({ op: 'flatten' }, { op: 'flatten', background: '#FFF' });
    same({ op: 'tint', color: '#F00' }, { op: 'tint', color: 'rgb(255,0,0)' });
    same({ op: 'frame', frames: 'first' }, { op: 'frame', index: 0 });
    const differ = [
      spec([{ op: 'extend', all: 5, extendWith: 'mirror' }]),
      spec([{ op: 'extend', all: 5 }]),
      spec([{ op: 'roundCorners', radius: 4, unit: 'percent' }]),
      spec([{ op: 'frame', frames: 'all' }]),
      spec([{ op: 'frame', index: 1 }]),
      spec([{ op: 'negate' }]),
      spec([{ op: 'normalize' }]),
    ].map((s) => specHash(s, 'png'));
    expect(new Set(differ).size).toBe(differ.length);
  });

  it('maps formats to extensions and MIME types', () => {
    expect(outputExtension('jpeg')).toBe('jpg');
    expect(outputExtension('avif')).toBe('avif');
    expect(outputMimeType('webp')).toBe('image/webp');
    expect(outputMimeType('gif')).toBe('image/gif');
  });

  it('parses and normalises colours', () => {
    expect(parseColor('#fff')).toEqual({ r: 255, g: 255, b: 255, alpha: 1 });
    expect(normalizeColor('#FFFFFF')).toBe('#ffffff');
    expect(normalizeColor('rgba(255, 0, 0, 0.5)')).toBe('#ff000080');
    expect(parseColor('red')).toBeNull();
    expect(parseColor('#ggg')).toBeNull();
  });
});
