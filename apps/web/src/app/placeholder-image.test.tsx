import { fireEvent, render, screen } from '@testing-library/react';
import { rgbaToThumbHash } from 'thumbhash';
import { describe, expect, it } from 'vitest';
import { PlaceholderImage } from './placeholder-image';

/** The ThumbHash of an 8 × 6 orange picture, base64 as the API sends it. */
const orangeHash = (): string => btoa(String.fromCharCode(...rgbaToThumbHash(8, 6, Array.from({ length: 48 }, () => [240, 120, 20, 255]).flat())));

describe('placeholder image', () => {
  it('shows the ThumbHash over the dominant colour until the thumbnail has loaded, and again for a new URL', () => {
    const placeholder = { thumbhash: orangeHash(), blurhash: 'L00000fQfQfQfQfQfQfQfQfQfQfQ', dominantColor: '#f07814' };
    const { rerender } = render(<PlaceholderImage src="/files/a.webp?sig=1" placeholder={placeholder} alt="beach" />);
    const img = screen.getByAltText('beach');
    expect(img.dataset.placeholder).toBe('shown');
    expect(img.style.backgroundImage).toMatch(/^url\("data:image\/png;base64,/);
    expect(img.style.backgroundColor).toBe('rgb(240, 120, 20)');
    fireEvent.load(img);
    expect(img.dataset.placeholder).toBeUndefined();
    expect(img.style.backgroundImage).toBe('');
    rerender(<PlaceholderImage src="/files/a.webp?sig=2" placeholder={placeholder} alt="beach" />);
    expect(screen.getByAltText('beach').dataset.placeholder).toBe('shown');
  });

  it('falls back to the dominant colour for an unreadable hash, and to nothing without a placeholder', () => {
    render(<PlaceholderImage src="/a" placeholder={{ thumbhash: '%%%', blurhash: '', dominantColor: '#102030' }} alt="a" />);
    expect(screen.getByAltText('a').style.backgroundImage).toBe('');
    expect(screen.getByAltText('a').style.backgroundColor).toBe('rgb(16, 32, 48)');
    render(<PlaceholderImage src="/b" placeholder={null} alt="b" />);
    expect(screen.getByAltText('b').getAttribute('style')).toBeNull();
  });
});
