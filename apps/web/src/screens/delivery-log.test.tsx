import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { fireEvent, render, screen, within } from '@testing-library/react';
import { MemoryRouter, useLocation } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Page, WebhookDeliveriesQuery, WebhookDelivery, WebhookEndpoint } from '@pixmill/sdk';
import { sdk } from '../api/session';

type DeliveryFilter = Pick<WebhookDeliveriesQuery, 'endpointId' | 'jobId'>;
import { DeliveryLog } from './delivery-log';

const ENDPOINT = '11111111-1111-4111-8111-111111111111';
const JOB = '22222222-2222-4222-8222-222222222222';
const endpoints = [{ id: ENDPOINT, url: 'https://hooks.example.com/a' } as WebhookEndpoint];
const delivery = (n: number, jobId: string | null = null): WebhookDelivery =>
  ({ id: `d${n}`, type: 'job.succeeded', url: `https://hooks.example.com/${n}`, status: 'succeeded', jobId, endpointId: ENDPOINT, attempts: [], createdAt: '2026-01-01T00:00:00Z' }) as unknown as WebhookDelivery;

/** The API as the log sees it: two pages without a filter, one delivery for any filter. */
function fakeDeliveries() {
  const calls: { filter: DeliveryFilter; cursor: string | null | undefined }[] = [];
  vi.spyOn(sdk, 'webhookDeliveriesPage').mockImplementation(async ({ cursor, limit: _limit, ...filter } = {}): Promise<Page<WebhookDelivery>> => {
    calls.push({ filter, cursor });
    if (filter.endpointId || filter.jobId) return { items: [delivery(9, JOB)], nextCursor: null };
    return cursor ? { items: [delivery(3)], nextCursor: null } : { items: [delivery(1, JOB), delivery(2)], nextCursor: 'c2' };
  });
  return calls;
}

/** The address bar's query, as the router holds it. */
let search = '';
function SearchProbe() {
  search = useLocation().search;
  return null;
}
const renderLog = (at = '/webhooks') =>
  render(
    <MemoryRouter initialEntries={[at]}>
      <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
        <DeliveryLog endpoints={endpoints} />
        <SearchProbe />
      </QueryClientProvider>
    </MemoryRouter>,
  );
const rows = () => within(screen.getByRole('list', { name: 'Deliveries' })).queryAllByRole('listitem');

afterEach(() => vi.restoreAllMocks());

describe('delivery log', () => {
  it('pages by cursor: "Load more" appends the next page and disappears on the last', async () => {
    const calls = fakeDeliveries();
    renderLog();
    await screen.findByText('https://hooks.example.com/2');
    expect(rows()).toHaveLength(2);
    fireEvent.click(screen.getByRole('button', { name: 'Load more deliveries' }));
    await screen.findByText('https://hooks.example.com/3');
    expect(rows()).toHaveLength(3);
    expect(calls.map((c) => c.cursor ?? null)).toEqual([null, 'c2']);
    expect(screen.queryByRole('button', { name: 'Load more deliveries' })).toBeNull();
  });

  it('filters by endpoint and job id, refuses a job id that is no UUID, and keeps the filter in the address', async () => {
    const calls = fakeDeliveries();
    renderLog();
    await screen.findByText('https://hooks.example.com/1');
    fireEvent.change(screen.getByLabelText('Job id'), { target: { value: 'not-a-job' } });
    fireEvent.click(screen.getByRole('button', { name: 'Filter' }));
    expect(screen.getByRole('alert').textContent).toMatch(/UUID/);
    expect(calls).toHaveLength(1);

    fireEvent.change(screen.getByLabelText('Endpoint'), { target: { value: ENDPOINT } });
    fireEvent.change(screen.getByLabelText('Job id'), { target: { value: JOB } });
    fireEvent.click(screen.getByRole('button', { name: 'Filter' }));
    await screen.findByText('https://hooks.example.com/9');
    expect(calls.at(-1)).toEqual({ filter: { endpointId: ENDPOINT, jobId: JOB }, cursor: undefined });
    expect(search).toBe(`?endpointId=${ENDPOINT}&jobId=${JOB}`);
    expect(screen.queryByRole('alert')).toBeNull();

    fireEvent.click(screen.getByRole('button', { name: 'Show all' }));
    await screen.findByText('https://hooks.example.com/2');
    expect(search).toBe('');
    // A delivery's own job narrows the log to it in one click.
    fireEvent.click(screen.getByRole('button', { name: `Only job ${JOB}` }));
    await screen.findByText('https://hooks.example.com/9');
    expect(calls.at(-1)!.filter).toEqual({ jobId: JOB });
  });

  it('opens with the filter of the address (the jobs list links to /webhooks?jobId=…)', async () => {
    const calls = fakeDeliveries();
    renderLog(`/webhooks?jobId=${JOB}`);
    await screen.findByText('https://hooks.example.com/9');
    expect(calls[0].filter).toEqual({ endpointId: undefined, jobId: JOB });
    expect((screen.getByLabelText('Job id') as HTMLInputElement).value).toBe(JOB);
  });
});
