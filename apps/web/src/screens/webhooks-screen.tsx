import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { WEBHOOK_EVENTS, type WebhookEndpoint } from '../api/types';
import { ProblemText } from '../app/problem-text';
import { DeliveryLog } from './delivery-log';

export function WebhooksScreen() {
  const client = useQueryClient();
  const endpoints = useQuery({ queryKey: ['endpoints'], queryFn: api.webhookEndpoints });
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>([...WEBHOOK_EVENTS]);
  const [created, setCreated] = useState<WebhookEndpoint | null>(null);
  const refresh = (): void => void client.invalidateQueries({ queryKey: ['endpoints'] });
  const create = useMutation({
    mutationFn: () => api.createWebhookEndpoint({ url, events }),
    onSuccess: (e) => {
      setCreated(e);
      setUrl('');
      refresh();
    },
  });
  const toggle = useMutation({ mutationFn: (e: WebhookEndpoint) => api.updateWebhookEndpoint(e.id, { enabled: !e.enabled }), onSuccess: refresh });
  const remove = useMutation({ mutationFn: (id: string) => api.deleteWebhookEndpoint(id), onSuccess: refresh });
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
      {endpoints.data?.items.length === 0 && <p className="empty">No endpoints.</p>}
      <ul className="endpoints" aria-label="Endpoints">
        {endpoints.data?.items.map((e) => (
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
      <DeliveryLog endpoints={endpoints.data?.items ?? []} />
    </main>
  );
}
