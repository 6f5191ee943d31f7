import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useMemo, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { sdk } from '../api/session';
import type { WebhookDeliveriesQuery, WebhookEndpoint } from '@pixmill/sdk';

/** What narrows the log: an endpoint, a job, or both. */
type DeliveryFilter = Pick<WebhookDeliveriesQuery, 'endpointId' | 'jobId'>;
import { when } from '../app/format';
import { LoadMore } from '../app/load-more';
import { ProblemText } from '../app/problem-text';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The filter in the address (`/webhooks?jobId=…`, which the jobs list links to; `?endpointId=…`). */
function filterOf(params: URLSearchParams): DeliveryFilter {
  const pick = (k: string): string | undefined => (UUID.test(params.get(k) ?? '') ? params.get(k)! : undefined);
  return { endpointId: pick('endpointId'), jobId: pick('jobId') };
}

/**
 * The deliveries of GET /v1/webhook-deliveries (each with its attempts), newest first, paged by cursor
 * (the next page loads as the end scrolls into view, or with "Load more"), narrowed to one endpoint
 * and/or one job.
 */
export function DeliveryLog({ endpoints }: { endpoints: WebhookEndpoint[] }) {
  const client = useQueryClient();
  const ids = useId();
  // The applied filter lives in the address, so a reload or a shared link shows the same log.
  const [params, setParams] = useSearchParams();
  const filter = useMemo(() => filterOf(params), [params]);
  const [endpointId, setEndpointId] = useState(filter.endpointId ?? '');
  const [jobId, setJobId] = useState(filter.jobId ?? '');
  const [jobIdError, setJobIdError] = useState<string | null>(null);
  const q = useInfiniteQuery({
    queryKey: ['deliveries', filter.endpointId ?? '', filter.jobId ?? ''],
    queryFn: ({ pageParam }) => sdk.webhookDeliveriesPage({ ...filter, limit: 20, cursor: pageParam ?? undefined }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });
  const redeliver = useMutation({ mutationFn: (id: string) => sdk.redeliverWebhook(id), onSuccess: () => void client.invalidateQueries({ queryKey: ['deliveries'] }) });
  // The form shows the applied filter, also when the address changes it (Back, the Webhooks link).
  useEffect(() => {
    setEndpointId(filter.endpointId ?? '');
    setJobId(filter.jobId ?? '');
    setJobIdError(null);
  }, [filter]);
  const apply = (next: DeliveryFilter): void => {
    const q = new URLSearchParams();
    if (next.endpointId) q.set('endpointId', next.endpointId);
    if (next.jobId) q.set('jobId', next.jobId);
    setParams(q, { replace: true });
  };
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    const job = jobId.trim();
    if (job && !UUID.test(job)) {
      setJobIdError('Job id must be a job’s UUID, as the jobs list shows it');
      return;
    }
    apply({ endpointId: endpointId || undefined, jobId: job || undefined });
  };
  const deliveries = q.data?.pages.flatMap((p) => p.items) ?? [];
  const filtered = !!(filter.endpointId || filter.jobId);
  const endpointUrl = (id: string | null): string | undefined => endpoints.find((e) => e.id === id)?.url;
  return (
    <section aria-labelledby={`${ids}-h`}>
      <h2 id={`${ids}-h`}>Delivery log</h2>
      <form className="filters" onSubmit={submit} aria-label="Filter deliveries">
        <div className="filter-field">
          <label htmlFor={`${ids}-endpoint`}>Endpoint</label>
          <select id={`${ids}-endpoint`} value={endpointId} onChange={(e) => setEndpointId(e.target.value)}>
            <option value="">all targets</option>
            {endpoints.map((e) => (
              <option key={e.id} value={e.id}>
                {e.url}
              </option>
            ))}
            {filter.endpointId && !endpointUrl(filter.endpointId) && <option value={filter.endpointId}>{filter.endpointId}</option>}
          </select>
        </div>
        <div className="filter-field">
          <label htmlFor={`${ids}-job`}>Job id</label>
          <input
            id={`${ids}-job`}
            value={jobId}
            onChange={(e) => setJobId(e.target.value)}
            placeholder="any job"
            spellCheck={false}
            aria-invalid={!!jobIdError}
            aria-describedby={jobIdError ? `${ids}-job-err` : undefined}
          />
          {jobIdError && (
            <span className="field-error" id={`${ids}-job-err`} role="alert">
              {jobIdError}
            </span>
          )}
        </div>
        <div className="filter-actions">
          <button type="submit">Filter</button>
          {filtered && (
            <button type="button" onClick={() => apply({})}>
              Show all
            </button>
          )}
        </div>
      </form>
      <ProblemText error={q.error ?? redeliver.error} />
      {q.isSuccess && deliveries.length === 0 && <p className="empty">{filtered ? 'No deliveries match.' : 'No deliveries yet.'}</p>}
      <ul className="deliveries" aria-label="Deliveries">
        {deliveries.map((d) => {
          const last = d.attempts.at(-1);
          return (
            <li key={d.id}>
              <span className={`badge ${d.status}`}>{d.status}</span> {d.type} → <span className="mono">{d.url}</span> {when(d.createdAt)}, {d.attempts.length}{' '}
              attempt(s)
              {last && ` last: ${last.statusCode ?? last.error}`}{' '}
              {d.jobId && d.jobId !== filter.jobId && (
                <button type="button" className="secondary" onClick={() => apply({ ...filter, jobId: d.jobId! })} aria-label={`Only job ${d.jobId}`}>
                  This job only
                </button>
              )}{' '}
              <button type="button" onClick={() => redeliver.mutate(d.id)} disabled={redeliver.isPending && redeliver.variables === d.id}>
                Redeliver
              </button>
            </li>
          );
        })}
      </ul>
      <LoadMore pages={q} label="Load more deliveries" />
    </section>
  );
}
