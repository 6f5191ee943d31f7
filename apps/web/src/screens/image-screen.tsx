import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { sdk } from '../api/session';
import type { Image } from '@pixmill/sdk';
import { formatBytes, when } from '../app/format';
import { PlaceholderImage } from '../app/placeholder-image';
import { ProblemText } from '../app/problem-text';

/** The listing thumbnail's box (256 px inside, never enlarged), so its placeholder has a size before it loads. */
function thumbnailSize(img: Image): { width: number; height: number } {
  const scale = Math.min(1, 256 / Math.max(img.width, img.height, 1));
  return { width: Math.max(1, Math.round(img.width * scale)), height: Math.max(1, Math.round(img.height * scale)) };
}

export function ImageScreen({ id }: { id: string }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const image = useQuery({ queryKey: ['image', id], queryFn: () => sdk.getImage(id) });
  const derivatives = useQuery({ queryKey: ['derivatives', id], queryFn: () => sdk.derivatives(id) });
  const [confirming, setConfirming] = useState(false);
  const remove = useMutation({
    mutationFn: () => sdk.deleteImage(id),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ['images'] });
      navigate('/gallery', { replace: true });
    },
  });
  const img = image.data;
  return (
    <main>
      <h1>{img?.filename ?? 'Image'}</h1>
      <ProblemText error={image.error} />
      {img && (
        <div className="image-page">
          {img.urls.thumbnail && (
            <PlaceholderImage className="hero" src={img.urls.thumbnail} placeholder={img.placeholder} alt={img.filename} {...thumbnailSize(img)} />
          )}
          <dl className="meta">
            <dt>Format</dt>
            <dd>{img.format}</dd>
            <dt>Size</dt>
            <dd>
              {img.width} × {img.height} px, {formatBytes(img.bytes)}
            </dd>
            <dt>Uploaded</dt>
            <dd>{when(img.createdAt)}</dd>
            <dt>SHA-256</dt>
            <dd className="mono">{img.sha256}</dd>
            {img.exif &&
              Object.entries(img.exif).map(([k, v]) => (
                <div key={k} className="exif">
                  <dt>{k}</dt>
                  <dd>{typeof v === 'object' ? JSON.stringify(v) : String(v)}</dd>
                </div>
              ))}
          </dl>
          <p>
            <Link className="button" to={`/images/${id}/builder`}>
              Transform
            </Link>{' '}
            {img.urls.original && (
              <a href={img.urls.original} target="_blank" rel="noreferrer">
                Original
              </a>
            )}
          </p>
          <h2>Derivatives</h2>
          {derivatives.data?.length ? (
            <table>
              <thead>
                <tr>
                  <th>Format</th>
                  <th>Size</th>
                  <th>Bytes</th>
                  <th>URL</th>
                </tr>
              </thead>
              <tbody>
                {derivatives.data.map((d) => (
                  <tr key={d.id}>
                    <td>{d.format}</td>
                    <td>
                      {d.width} × {d.height}
                    </td>
                    <td>{formatBytes(d.bytes)}</td>
                    <td>
                      <a href={d.url} target="_blank" rel="noreferrer">
                        open
                      </a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="empty">None rendered yet.</p>
          )}
          <h2>Delete</h2>
          {confirming ? (
            <div role="alertdialog" aria-label="Confirm deletion" className="confirm">
              <p>Delete {img.filename} and all its derivatives? This cannot be undone.</p>
              <button type="button" className="danger" onClick={() => remove.mutate()} disabled={remove.isPending}>
                Yes, delete
              </button>{' '}
              <button type="button" onClick={() => setConfirming(false)} autoFocus>
                Keep it
              </button>
            </div>
          ) : (
            <button type="button" className="danger" onClick={() => setConfirming(true)}>
              Delete image…
            </button>
          )}
          <ProblemText error={remove.error} />
        </div>
      )}
    </main>
  );
}
