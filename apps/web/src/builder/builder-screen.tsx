import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { PixmillError, type Job, type TransformationSpec } from '@pixmill/sdk';
import { sdk, session } from '../api/session';
import { formatBytes } from '../app/format';
import { ProblemText } from '../app/problem-text';
import { BuilderForm } from './builder-form';
import { queryCanExpress, toQuery, toSpec, validateSpec, type DraftSpec } from './spec-rules';

const PREVIEW_DELAY_MS = 700;

/** A public signed `/i/` URL (the browser loads and caches it), or the delivery URL of a job's result. */
type Preview = { kind: 'public'; url: string } | { kind: 'job'; url: string; bytes: number; format: string };

export function BuilderScreen({ imageId }: { imageId: string }) {
  const client = useQueryClient();
  const [draft, setDraft] = useState<DraftSpec>({ operations: [], format: '', quality: '' });
  const errors = useMemo(() => validateSpec(draft), [draft]);
  const valid = Object.keys(errors).length === 0;
  const query = valid ? toQuery(draft) : '';
  const json = valid ? JSON.stringify(toSpec(draft), null, 2) : '';
  const [preview, setPreview] = useState<Preview | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [loaded, setLoaded] = useState<{ width: number; height: number } | null>(null);
  // Bumped to sign again (the key was rotated elsewhere) or to load the same URL again (it was still rendering).
  const [attempt, setAttempt] = useState(0);
  const [job, setJob] = useState<Job | null>(null);
  const [submitError, setSubmitError] = useState<unknown>(null);
  const [copied, setCopied] = useState(false);

  // Public URLs of an account set to presets-only refuse a builder's spec: those previews are rendered
  // as a job through the authenticated API instead, and shown from its delivery URL (decision 068).
  const me = useQuery({ queryKey: ['me'], queryFn: () => sdk.me() });
  const presetsOnly = me.data ? me.data.publicUrls === 'presets-only' : undefined;

  // Live preview, a moment after the last edit: a signed /i/ URL the <img> loads itself.
  useEffect(() => {
    if (!valid || !queryCanExpress(draft) || presetsOnly === undefined) return;
    const ctl = new AbortController();
    const show = (p: Preview): void => {
      setPreviewError(null);
      setPreview(p);
    };
    const t = setTimeout(() => {
      const next: Promise<Preview> = presetsOnly
        ? sdk.transformAndWait(imageId, toSpec(draft) as TransformationSpec, { signal: ctl.signal }).then(({ result }) => ({ kind: 'job', ...result }))
        : session.previewUrl(imageId, query).then((url) => ({ kind: 'public', url }));
      next.then((p) => !ctl.signal.aborted && show(p), (err) => (err as Error).name !== 'AbortError' && setPreviewError(err));
    }, PREVIEW_DELAY_MS);
    return () => {
      clearTimeout(t);
      ctl.abort();
    };
  }, [imageId, query, valid, draft, presetsOnly, attempt]);

  /** An <img> cannot read why it failed: ask the URL once more with fetch for its problem. */
  const previewFailed = async (url: string): Promise<void> => {
    setLoaded(null);
    const problem = await session.publicUrlProblem(url);
    if (problem?.code === 'signature_invalid' && attempt === 0) {
      session.forgetUrlKey();
      setAttempt(1);
    } else if (problem?.code === 'rendering') {
      setTimeout(() => setAttempt((n) => n + 1), 2000);
    } else if (problem) setPreviewError(problem);
    else setAttempt((n) => n + 1);
  };

  const submit = async (): Promise<void> => {
    setSubmitError(null);
    setCopied(false);
    try {
      let j = await sdk.transform(imageId, toSpec(draft) as TransformationSpec);
      setJob(j);
      while (j.status === 'queued' || j.status === 'active') {
        j = await sdk.getJob(j.id, { wait: 20 });
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
          {preview ? (
            <img
              key={`${preview.url}#${attempt}`}
              src={preview.url}
              alt="Preview of the transformation"
              data-source={preview.kind}
              onLoad={(e) => setLoaded({ width: e.currentTarget.naturalWidth, height: e.currentTarget.naturalHeight })}
              onError={() => preview.kind === 'public' && void previewFailed(preview.url)}
            />
          ) : (
            <p className="empty">The result appears here.</p>
          )}
          {preview && loaded && (
            <p data-testid="preview-size">
              {loaded.width} × {loaded.height} px, {preview.kind === 'job' ? `${preview.format}, ${formatBytes(preview.bytes)}` : draft.format || 'format of the original'}
            </p>
          )}
          {presetsOnly && <p className="hint">Your account's public URLs take presets only, so previews are rendered as jobs with your session instead of public URLs.</p>}
          {previewError instanceof PixmillError && <ProblemText error={previewError} />}
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
