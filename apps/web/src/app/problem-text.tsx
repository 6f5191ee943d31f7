import { PixmillError } from '@pixmill/sdk';

/** A problem+json answer as a person reads it: its title or detail, and each bad field. */
export function ProblemText({ error }: { error: unknown }) {
  if (!error) return null;
  if (!(error instanceof PixmillError)) return <p role="alert" className="error">{String((error as Error).message ?? error)}</p>;
  return (
    <div role="alert" className="error">
      <p>{error.message}</p>
      {error.errors?.length ? (
        <ul>
          {error.errors.map((e) => (
            <li key={e.field + e.message}>
              <code>{e.field}</code>: {e.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
