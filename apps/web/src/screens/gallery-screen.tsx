import { useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { api } from '../api/client';
import { ProblemText } from '../app/problem-text';
import { Link } from '../app/router';

export function GalleryScreen() {
  const q = useInfiniteQuery({
    queryKey: ['images'],
    queryFn: ({ pageParam }) => api.images(pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    // Thumbnails are rendered after the upload: look again while some are missing.
    refetchInterval: (query) => (query.state.data?.pages.some((p) => p.items.some((i) => !i.urls.thumbnail)) ? 2000 : false),
  });
  const sentinel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = sentinel.current;
    if (!el || typeof IntersectionObserver === 'undefined') return;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && q.hasNextPage && !q.isFetchingNextPage) void q.fetchNextPage();
    });
    io.observe(el);
    return () => io.disconnect();
  }, [q]);
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
              {img.urls.thumbnail ? <img src={img.urls.thumbnail} alt={img.filename} loading="lazy" /> : <span className="pending">rendering…</span>}
              <span className="caption">{img.filename}</span>
            </Link>
          </li>
        ))}
      </ul>
      <div ref={sentinel} />
      {q.hasNextPage && (
        <button type="button" onClick={() => void q.fetchNextPage()} disabled={q.isFetchingNextPage}>
          Load more
        </button>
      )}
    </main>
  );
}
