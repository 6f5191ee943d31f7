import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { api, ApiError } from '../api/client';
import type { Job } from '../api/types';
import { formatBytes } from '../app/format';
import { ProblemText } from '../app/problem-text';
import { BuilderForm } from './builder-form';
import { queryCanExpress, toQuery, toSpec, validateSpec, type DraftSpec } from './spec-rules';

const PREVIEW_DELAY_MS = 700;

export function BuilderScreen({ imageId }: { imageId: string }) {
  const client = useQueryClient();
  const [draft, setDraft] = useState<DraftSpec>({ operations: [], format: '', quality: '' });
  const errors = useMemo(() => validateSpec(draft), [draft]);
  const valid = Object.keys(errors).length === 0;
  const query = valid ? toQuery(draft) : '';
  const json = valid ? JSON.stringify(toSpec(draft), null, 2) : '';
  const [preview, setPreview] = useState<{ url: string; bytes: number; type: string } | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [job, setJob] = useState<Job | null>(null);
  const [submitError, setSubmitError] = useState<unknown>(null);
  const [copied, setCopied] = useState(false);

  // Live preview: the same render through GET /transform, a moment after the last edit.
  useEffect(() => {
    if (!valid || !queryCanExpress(draft)) return;
    const ctl = new AbortController();
    const t = setTimeout(() => {
      api.preview(imageId, query, ctl.signal).then(
        (p) => {
          setPreviewError(null);
          setPreview((old) => {
            if (old) URL.revokeObjectURL(old.url);
            return p;
          });
        },
        (err) => (err as Error).name !== 'AbortError' && setPreviewError(err),
      );
    }, PREVIEW_DELAY_MS);
    return () => {
      clearTimeout(t);
      ctl.abort();
    };
  }, [imageId, query, valid, draft]);

  const submit = async (): Promise<void> => {
    setSubmitError(null);
    setCopied(false);
    try {
      let j = await api.submitTransformation(imageId, toSpec(draft));
      setJob(j);
      while (j.status === 'queued' || j.status === 'active') {
        j = await api.job(j.id, 20);
        setJob(j);
      }
      void client.invalidateQueries({ queryKey: ['derivatives', imageId] });
      void client.invalidateQueries({ queryKey: ['jobs'] });
    } catch (err) {
      setSubmitError(err);
    }
  };
  const copy = async (url: string): Promise<void> => {
    await navigator.clipboard?.writeText(url).catch(() => undefined);
    setCopied(true);
  };

  return (
    <main className="builder">
      <h1>Transform</h1>
      <div className="builder-grid">
        <BuilderForm draft={draft} errors={errors} onChange={setDraft} />
        <section aria-label="Preview" className="preview">
          <h2>Preview</h2>
          {preview ? <img src={preview.url} alt="Preview of the transformation" /> : <p className="empty">The result appears here.</p>}
          {preview && (
            <p>
              {preview.type}, {formatBytes(preview.bytes)}
            </p>
          )}
          {previewError instanceof ApiError && <ProblemText error={previewError} />}
          <h2>Query string</h2>
          <pre className="code" aria-label="Query string">{valid ? `GET /v1/images/${imageId}/transform?${query}` : 'fix the errors first'}</pre>
          <h2>JSON</h2>
          <pre className="code" aria-label="JSON spec">{json || 'fix the errors first'}</pre>
          <button type="button" onClick={() => void submit()} disabled={!valid}>
            Submit job
          </button>
          <ProblemText error={submitError} />
          {job && (
            <div className="job" aria-live="polite">
              <p>
                Job <code>{job.id}</code>: <strong data-testid="job-status">{job.status}</strong>
                {job.cached ? ' (cached)' : ''}
              </p>
              {(job.status === 'queued' || job.status === 'active') && <progress max={100} value={job.progress} aria-label="Job progress" />}
              {job.error && <p className="error">{job.error.code}: {job.error.message}</p>}
              {job.result && (
                <p>
                  <a href={job.result.url} target="_blank" rel="noreferrer" data-testid="job-url">
                    {job.result.width} × {job.result.height} {job.result.format}
                  </a>{' '}
                  <button type="button" onClick={() => void copy(job.result!.url)}>
                    {copied ? 'Copied' : 'Copy URL'}
                  </button>
                </p>
              )}
            </div>
          )}
        </section>
      </div>
    </main>
  );
}
