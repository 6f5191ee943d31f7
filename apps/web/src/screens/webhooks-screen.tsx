import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { sdk } from '../api/session';
import type { WebhookEndpoint, WebhookEventType } from '@pixmill/sdk';

/** Every event type of the API: a record, so a type added to the OpenAPI document fails to compile here until listed. */
const EVENT_TYPES: Record<WebhookEventType, true> = { 'job.succeeded': true, 'job.failed': true, 'image.ready': true, 'image.deleted': true };
const WEBHOOK_EVENTS = Object.keys(EVENT_TYPES) as WebhookEventType[];
import { ProblemText } from '../app/problem-text';
import { DeliveryLog } from './delivery-log';

export function WebhooksScreen() {
  const client = useQueryClient();
  const endpoints = useQuery({ queryKey: ['endpoints'], queryFn: () => sdk.listWebhookEndpoints() });
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<WebhookEventType[]>([...WEBHOOK_EVENTS]);
  const [created, setCreated] = useState<WebhookEndpoint | null>(null);
  const refresh = (): void => void client.invalidateQueries({ queryKey: ['endpoints'] });
  const create = useMutation({
    mutationFn: () => sdk.createWebhookEndpoint({ url, events }),
    onSuccess: (e) => {
      setCreated(e);
      setUrl('');
      refresh();
    },
  });
  const toggle = useMutation({ mutationFn: (e: WebhookEndpoint) => sdk.updateWebhookEndpoint(e.id, { enabled: !e.enabled }), onSuccess: refresh });
  const remove = useMutation({ mutationFn: (id: string) => sdk.deleteWebhookEndpoint(id), onSuccess: refresh });
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <main>
      <h1>Webhooks</h1>
      <form onSubmit={submit} aria-label="New endpoint">
        <label>
          Endpoint URL
          <input type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://example.com/hooks/pixmill" />
        </label>
        <fieldset>
          <legend>Events</legend>
          {WEBHOOK_EVENTS.map((ev) => (
            <label key={ev} className="inline">
              <input
                type="checkbox"
                checked={events.includes(ev)}
                onChange={(e) => setEvents(e.target.checked ? [...events, ev] : events.filter((x) => x !== ev))}
              />{' '}
              {ev}
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={create.isPending}>
          Create endpoint
        </button>
        <ProblemText error={create.error} />
      </form>
      {created && (
        <div role="status" className="secret">
          <p>
            Signing secret of {created.url} — copy it now, it is not shown again here: <code data-testid="endpoint-secret">{created.secret}</code>
          </p>
          <button type="button" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
      <h2>Endpoints</h2>
      <ProblemText error={endpoints.error ?? toggle.error ?? remove.error} />
      {endpoints.data?.length === 0 && <p className="empty">No endpoints.</p>}
      <ul className="endpoints" aria-label="Endpoints">
        {endpoints.data?.map((e) => (
          <li key={e.id}>
            <span className="mono">{e.url}</span> <span className={`badge ${e.enabled ? 'succeeded' : 'failed'}`}>{e.enabled ? 'enabled' : 'disabled'}</span>{' '}
            <span>{e.events.join(', ')}</span>
            {e.disabledReason && <span className="error"> {e.disabledReason}</span>}{' '}
            <button type="button" onClick={() => toggle.mutate(e)}>
              {e.enabled ? 'Disable' : 'Enable'}
            </button>{' '}
            <button type="button" className="danger" onClick={() => window.confirm(`Delete the endpoint ${e.url}?`) && remove.mutate(e.id)}>
              Delete
            </button>
          </li>
        ))}
      </ul>
      <DeliveryLog endpoints={endpoints.data ?? []} />
    </main>
  );
}
