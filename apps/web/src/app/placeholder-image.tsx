import { useMemo, useState, type CSSProperties, type ImgHTMLAttributes } from 'react';
import { thumbHashToDataURL } from 'thumbhash';
import type { ImagePlaceholder } from '@pixmill/sdk';

/**
 * The placeholder as CSS: the ThumbHash decoded to a small PNG data: URL (a few hundred bytes, drawn
 * blurred by the browser's scaling) over the dominant colour, which alone stays if the hash is unreadable.
 */
export function placeholderStyle(p: ImagePlaceholder | null | undefined): CSSProperties | undefined {
  if (!p) return undefined;
  let url: string | null = null;
  try {
    url = thumbHashToDataURL(Uint8Array.from(atob(p.thumbhash), (c) => c.charCodeAt(0)));
  } catch {
    // a malformed hash: the dominant colour is placeholder enough
  }
  return { backgroundColor: p.dominantColor, backgroundImage: url ? `url("${url}")` : undefined, backgroundSize: 'cover', backgroundPosition: 'center' };
}

/** An <img> that shows the image's placeholder (GET /v1/images/{id} `placeholder`) until its own pixels have loaded. */
export function PlaceholderImage({ placeholder, onLoad, style, ...img }: ImgHTMLAttributes<HTMLImageElement> & { placeholder: ImagePlaceholder | null | undefined }) {
  const [loadedSrc, setLoadedSrc] = useState<string | undefined>(undefined);
  const background = useMemo(() => placeholderStyle(placeholder), [placeholder]);
  // A new src (the signed URL is renewed) is a new load: the placeholder shows until it arrives.
  const loaded = loadedSrc !== undefined && loadedSrc === img.src;
  return (
    <img
      {...img}
      style={loaded || !background ? style : { ...background, ...style }}
      data-placeholder={!loaded && background ? 'shown' : undefined}
      onLoad={(e) => {
        setLoadedSrc(e.currentTarget.getAttribute('src') ?? undefined);
        onLoad?.(e);
      }}
    />
  );
}
