import { sanitizeFilename } from './filename.util';

describe('sanitizeFilename', () => {
  it.each([
    ['photo.jpg', 'photo.jpg'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\me\\cat.png', 'cat.png'],
    ['a\u0000b\u001fc.gif', 'abc.gif'],
    ['evil\u202egpj.exe', 'evilgpj.exe'],
    ['  spaced   out .webp ', 'spaced out .webp'],
    ['.hidden', 'hidden'],
    ['', 'upload'],
    [undefined, 'upload'],
    ['../', 'upload'],
  ])('%j → %j', (raw, expected) => {
    expect(sanitizeFilename(raw as string | undefined)).toBe(expected);
  });

  it('caps the length', () => {
    expect(sanitizeFilename('x'.repeat(1000))).toHaveLength(255);
  });
});
