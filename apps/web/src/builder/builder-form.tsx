import { OPERATIONS, FORMATS, MAX_OPERATIONS, type DraftSpec, type SpecErrors } from './spec-rules';

let nextKey = 1;
export const newOperation = (op: string) => ({ key: nextKey++, op, values: {} as Record<string, string> });

/** The editable chain: add, reorder, remove operations; output format and quality; every error inline. */
export function BuilderForm({ draft, errors, onChange }: { draft: DraftSpec; errors: SpecErrors; onChange: (d: DraftSpec) => void }) {
  const setOps = (operations: DraftSpec['operations']): void => onChange({ ...draft, operations });
  const move = (i: number, by: number): void => {
    const ops = [...draft.operations];
    const [o] = ops.splice(i, 1);
    ops.splice(i + by, 0, o);
    setOps(ops);
  };
  return (
    <div className="builder-form">
      <ol className="ops" aria-label="Operations">
        {draft.operations.map((o, i) => (
          <li key={o.key}>
            <fieldset>
              <legend>
                {i + 1}. {o.op}
              </legend>
              {OPERATIONS[o.op].map((rule) => {
                const id = `op-${o.key}-${rule.name}`;
                const err = errors[`operations.${i}.${rule.name}`];
                const value = o.values[rule.name] ?? '';
                const set = (v: string): void => setOps(draft.operations.map((x) => (x.key === o.key ? { ...x, values: { ...x.values, [rule.name]: v } } : x)));
                return (
                  <div className="field" key={rule.name}>
                    <label htmlFor={id}>{rule.label}</label>
                    {rule.kind === 'enum' ? (
                      <select id={id} value={value} onChange={(e) => set(e.target.value)} aria-invalid={!!err}>
                        <option value="">default</option>
                        {rule.options!.map((opt) => (
                          <option key={opt}>{opt}</option>
                        ))}
                      </select>
                    ) : (
                      <input
                        id={id}
                        value={value}
                        inputMode={rule.kind === 'text' || rule.kind === 'color' ? 'text' : 'decimal'}
                        onChange={(e) => set(e.target.value)}
                        aria-invalid={!!err}
                        aria-describedby={err ? `${id}-err` : undefined}
                        placeholder={rule.min !== undefined ? `${rule.min}–${rule.max}` : rule.kind === 'color' ? '#rrggbb' : undefined}
                        spellCheck={rule.kind === 'text'}
                      />
                    )}
                    {err && (
                      <span className="field-error" id={`${id}-err`} role="alert">
                        {rule.label} {err}
                      </span>
                    )}
                  </div>
                );
              })}
              <div className="op-actions">
                <button type="button" onClick={() => move(i, -1)} disabled={i === 0} aria-label={`Move ${o.op} up`}>
                  ↑
                </button>
                <button type="button" onClick={() => move(i, 1)} disabled={i === draft.operations.length - 1} aria-label={`Move ${o.op} down`}>
                  ↓
                </button>
                <button type="button" onClick={() => setOps(draft.operations.filter((x) => x.key !== o.key))} aria-label={`Remove ${o.op}`}>
                  Remove
                </button>
              </div>
            </fieldset>
          </li>
        ))}
      </ol>
      {errors.operations && <p role="alert" className="field-error">{errors.operations}</p>}
      <label>
        Add operation{' '}
        <select
          aria-label="Add operation"
          value=""
          disabled={draft.operations.length >= MAX_OPERATIONS}
          onChange={(e) => e.target.value && setOps([...draft.operations, newOperation(e.target.value)])}
        >
          <option value="">choose…</option>
          {Object.keys(OPERATIONS).map((op) => (
            <option key={op}>{op}</option>
          ))}
        </select>
      </label>
      <fieldset>
        <legend>Output</legend>
        <div className="field">
          <label htmlFor="out-format">Format</label>
          <select id="out-format" value={draft.format} onChange={(e) => onChange({ ...draft, format: e.target.value })}>
            <option value="">as the input</option>
            {FORMATS.map((f) => (
              <option key={f}>{f}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="out-quality">Quality</label>
          <input
            id="out-quality"
            inputMode="numeric"
            placeholder="1–100"
            value={draft.quality}
            onChange={(e) => onChange({ ...draft, quality: e.target.value })}
            aria-invalid={!!errors['output.quality']}
          />
          {errors['output.quality'] && (
            <span className="field-error" role="alert">
              Quality {errors['output.quality']}
            </span>
          )}
        </div>
        <div className="field">
          <input
            id="out-keep-profile"
            type="checkbox"
            checked={!!draft.keepProfile}
            onChange={(e) => onChange({ ...draft, keepProfile: e.target.checked })}
            aria-describedby="out-keep-profile-hint"
          />
          <label htmlFor="out-keep-profile">Keep colour profile</label>
          <span className="hint" id="out-keep-profile-hint">
            wide gamut (Display P3…) stays wide; otherwise converted to sRGB
          </span>
        </div>
      </fieldset>
    </div>
  );
}
