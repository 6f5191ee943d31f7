import { useMutation, useQuery } from '@tanstack/react-query';
import { sdk } from '../api/session';
import { formatBytes } from '../app/format';
import { ProblemText } from '../app/problem-text';

function Bar({ label, used, total, format }: { label: string; used: number; total: number | null; format: (n: number) => string }) {
  return (
    <div className="usage">
      <span>
        {label}: {format(used)} of {total === null ? 'unlimited' : format(total)}
      </span>
      <meter min={0} max={total ?? Math.max(used, 1)} value={used} aria-label={label} />
    </div>
  );
}

/** Admins: the queue dashboard opens in this tab through a single-use link (the session stays in this tab's storage). */
function QueueDashboardButton() {
  const open = useMutation({ mutationFn: () => sdk.queueDashboardLink(), onSuccess: ({ url }) => window.location.assign(url) });
  return (
    <div>
      <button type="button" onClick={() => open.mutate()} disabled={open.isPending}>
        Open the queue dashboard
      </button>
      <ProblemText error={open.error} />
    </div>
  );
}

export function AccountScreen() {
  const me = useQuery({ queryKey: ['me'], queryFn: () => sdk.me() });
  return (
    <main>
      <h1>Account</h1>
      <ProblemText error={me.error} />
      {me.data && (
        <>
          <p>
            {me.data.email}, plan <strong>{me.data.plan}</strong>
          </p>
          <Bar label="Storage" used={me.data.usage.storageBytes} total={me.data.usage.storageQuotaBytes} format={formatBytes} />
          <Bar label="Transforms today" used={me.data.usage.transformsToday} total={me.data.usage.dailyTransformQuota} format={String} />
          {me.data.role === 'admin' && <QueueDashboardButton />}
        </>
      )}
    </main>
  );
}
