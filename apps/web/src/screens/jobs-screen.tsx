import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { JobStatus } from '@pixmill/sdk';
import { Link } from 'react-router';
import { sdk } from '../api/session';
import { when } from '../app/format';
import { LoadMore } from '../app/load-more';
import { ProblemText } from '../app/problem-text';

const STATUSES = ['', 'queued', 'active', 'succeeded', 'failed', 'canceled'];

export function JobsScreen() {
  const [status, setStatus] = useState('');
  const q = useInfiniteQuery({
    queryKey: ['jobs', status],
    queryFn: ({ pageParam }) => sdk.jobsPage({ limit: 50, cursor: pageParam ?? undefined, status: (status || undefined) as JobStatus | undefined }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    refetchInterval: (query) => (query.state.data?.pages.some((p) => p.items.some((j) => j.status === 'queued' || j.status === 'active')) ? 2000 : false),
  });
  const jobs = q.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <main>
      <h1>Jobs</h1>
      <label>
        Status{' '}
        <select value={status} onChange={(e) => setStatus(e.target.value)}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s || 'all'}
            </option>
          ))}
        </select>
      </label>
      <ProblemText error={q.error} />
      {q.isSuccess && jobs.length === 0 && <p className="empty">No jobs yet.</p>}
      <ul className="jobs" aria-label="Jobs">
        {jobs.map((j) => (
          <li key={j.id} data-status={j.status}>
            <span className={`badge ${j.status}`}>{j.status}</span>
            <progress max={100} value={j.status === 'succeeded' ? 100 : j.progress} aria-label={`Job ${j.id} progress`} />
            <Link to={`/images/${j.imageId}`}>image</Link>
            <span className="ops">{((j.spec.operations as { op: string }[] | undefined) ?? []).map((o) => o.op).join(' → ') || 're-encode'}</span>
            <span>{when(j.createdAt)}</span>
            {j.error && (
              <span className="error">
                {j.error.code}: {j.error.message}
              </span>
            )}
            {j.result && (
              <a href={j.result.url} target="_blank" rel="noreferrer">
                result
              </a>
            )}
            <Link to={`/webhooks?jobId=${j.id}`} aria-label={`Webhook deliveries of job ${j.id}`}>
              deliveries
            </Link>
          </li>
        ))}
      </ul>
      <LoadMore pages={q} />
    </main>
  );
}
