import { toDecodeError } from './decode-error.util';

describe('toDecodeError', () => {
  it('maps a missing HEVC decoder to 415, even when libheif reports it on a later line', () => {
    const err = toDecodeError(
      new Error('source: bad seek to 1024\nheif: Unsupported feature: Unsupported codec (4.3000)\nSupport for this compression format has not been built in: HEVC (a suitable decoder plugin is libde265)'),
    );
    expect([err.status, err.code]).toEqual([415, 'unsupported_media_type']);
  });

  it('maps pixel-limit and other decoder errors to 422', () => {
    expect(toDecodeError(new Error('Input image exceeds pixel limit')).code).toBe('image_too_large');
    expect(toDecodeError(new Error('VipsJpeg: premature end of JPEG image')).code).toBe('image_corrupt');
  });
});
