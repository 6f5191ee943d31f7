import { fireEvent, render, screen, within } from '@testing-library/react';
import { useMemo, useState } from 'react';
import { describe, expect, it } from 'vitest';
import { BuilderForm } from './builder-form';
import { toQuery, toSpec, validateSpec, type DraftSpec } from './spec-rules';

/** The form with the builder's own state and validation, as the builder screen wires them. */
function Harness({ onDraft }: { onDraft?: (d: DraftSpec) => void }) {
  const [draft, setDraft] = useState<DraftSpec>({ operations: [], format: '', quality: '' });
  const errors = useMemo(() => validateSpec(draft), [draft]);
  onDraft?.(draft);
  return <BuilderForm draft={draft} errors={errors} onChange={setDraft} />;
}

const add = (op: string): void => void fireEvent.change(screen.getByLabelText('Add operation'), { target: { value: op } });
const type = (label: string, value: string, index = 0): void => void fireEvent.change(screen.getAllByLabelText(label)[index], { target: { value } });

describe('builder validation', () => {
  it('shows SPEC §4 ranges as each field is typed, and clears them when fixed', () => {
    render(<Harness />);
    add('resize');
    expect(screen.getByRole('alert').textContent).toBe('Width (px) give width or height');
    type('Width (px)', '0');
    expect(screen.getByRole('alert').textContent).toBe('Width (px) must be between 1 and 8192');
    type('Width (px)', '12.5');
    expect(screen.getByRole('alert').textContent).toBe('Width (px) must be a whole number');
    type('Width (px)', '800');
    expect(screen.queryByRole('alert')).toBeNull();
    add('blur');
    type('Sigma', '0.1');
    expect(screen.getByRole('alert').textContent).toBe('Sigma must be between 0.3 and 100');
    expect(screen.getByLabelText('Sigma').getAttribute('aria-invalid')).toBe('true');
    type('Sigma', '2');
    type('Quality', '101');
    expect(screen.getByRole('alert').textContent).toBe('Quality must be a whole number between 1 and 100');
  });

  it('reorders and removes operations, and the spec follows in JSON and query form', () => {
    let draft!: DraftSpec;
    render(<Harness onDraft={(d) => (draft = d)} />);
    add('grayscale');
    add('resize');
    type('Width (px)', '300');
    fireEvent.click(screen.getByRole('button', { name: 'Move resize up' }));
    fireEvent.change(screen.getByLabelText('Format'), { target: { value: 'webp' } });
    const ops = within(screen.getByRole('list', { name: 'Operations' })).getAllByRole('group');
    expect(ops.map((g) => g.querySelector('legend')!.textContent)).toEqual(['1. resize', '2. grayscale']);
    expect(toSpec(draft)).toEqual({ operations: [{ op: 'resize', width: 300 }, { op: 'grayscale' }], output: { format: 'webp' } });
    expect(toQuery(draft)).toBe('resize=300x&grayscale=true&format=webp');
    fireEvent.click(screen.getByRole('button', { name: 'Remove grayscale' }));
    expect(toSpec(draft).operations).toEqual([{ op: 'resize', width: 300 }]);
  });

  it('allows at most ten operations', () => {
    render(<Harness />);
    for (let i = 0; i < 10; i++) add('sepia');
    expect((screen.getByLabelText('Add operation') as HTMLSelectElement).disabled).toBe(true);
    expect(validateSpec({ operations: Array.from({ length: 11 }, (_, key) => ({ key, op: 'sepia', values: {} })), format: '', quality: '' }).operations).toBe(
      'at most 10 operations',
    );
  });
});
