import { useInfiniteQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { sdk } from '../api/session';
import { LoadMore } from '../app/load-more';
import { PlaceholderImage } from '../app/placeholder-image';
import { ProblemText } from '../app/problem-text';

export function GalleryScreen() {
  const q = useInfiniteQuery({
    queryKey: ['images'],
    queryFn: ({ pageParam }) => sdk.imagesPage({ limit: 24, cursor: pageParam ?? undefined }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    // Thumbnails are rendered after the upload: look again while some are missing.
    refetchInterval: (query) => (query.state.data?.pages.some((p) => p.items.some((i) => !i.urls.thumbnail)) ? 2000 : false),
  });
  const images = q.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <main>
      <h1>Gallery</h1>
      <ProblemText error={q.error} />
      {q.isSuccess && images.length === 0 && (
        <p className="empty">
          No images yet. <Link to="/upload">Upload some</Link>.
        </p>
      )}
      <ul className="gallery" aria-label="Images">
        {images.map((img) => (
          <li key={img.id}>
            <Link to={`/images/${img.id}`} aria-label={img.filename}>
              {img.urls.thumbnail ? (
                <PlaceholderImage src={img.urls.thumbnail} placeholder={img.placeholder} alt={img.filename} loading="lazy" />
              ) : (
                <span className="pending">rendering…</span>
              )}
              <span className="caption">{img.filename}</span>
            </Link>
          </li>
        ))}
      </ul>
      <LoadMore pages={q} />
    </main>
  );
}
