import { ApiError } from '../api/client';

/** A problem+json answer as a person reads it: its title or detail, and each bad field. */
export function ProblemText({ error }: { error: unknown }) {
  if (!error) return null;
  if (!(error instanceof ApiError)) return <p role="alert" className="error">{String((error as Error).message ?? error)}</p>;
  const p = error.problem;
  return (
    <div role="alert" className="error">
      <p>{p.detail ?? p.title}</p>
      {p.errors?.length ? (
        <ul>
          {p.errors.map((e) => (
            <li key={e.field + e.message}>
              <code>{e.field}</code>: {e.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
