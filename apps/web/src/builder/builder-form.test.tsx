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

  it('checks the newer operations: extend sides and fill, roundCorners in percent, tint colours, frame first', () => {
    let draft!: DraftSpec;
    render(<Harness onDraft={(d) => (draft = d)} />);
    add('extend');
    expect(screen.getByRole('alert').textContent).toBe('All sides (px) give all or top or right or bottom or left');
    type('All sides (px)', '5000');
    expect(screen.getByRole('alert').textContent).toBe('All sides (px) must be between 0 and 4096');
    type('All sides (px)', '20');
    type('Top (px)', '5');
    fireEvent.change(screen.getByLabelText('Fill with'), { target: { value: 'mirror' } });
    type('Background', '#ffffff');
    expect(screen.getByRole('alert').textContent).toBe('Background does not apply when filling with mirror');
    type('Background', '');
    expect(screen.queryByRole('alert')).toBeNull();
    expect(toQuery(draft)).toBe('extend=5,20,20,20:mirror');

    add('roundCorners');
    type('Radius', '60');
    fireEvent.change(screen.getByLabelText('Unit'), { target: { value: 'percent' } });
    expect(screen.getByRole('alert').textContent).toBe('Radius must be at most 50 in percent (50 makes a circle)');
    type('Radius', '50');

    add('tint');
    type('Colour', 'sepia-ish');
    expect(screen.getByRole('alert').textContent).toBe('Colour must be a colour: #rgb, #rrggbb, #rrggbbaa or rgb(…)');
    type('Colour', '#704214');
    expect(screen.queryByRole('alert')).toBeNull();

    // frame picks what is decoded, so the API takes it only first in the chain.
    add('frame');
    type('Frame index', '2');
    expect(screen.getByRole('alert').textContent).toBe('Frame index frame must be the first operation (it picks what is decoded)');
    fireEvent.click(screen.getByRole('button', { name: 'Remove frame' }));

    fireEvent.click(screen.getByLabelText('Keep colour profile'));
    expect(toSpec(draft)).toEqual({
      operations: [
        { op: 'extend', all: 20, top: 5, extendWith: 'mirror' },
        { op: 'roundCorners', radius: 50, unit: 'percent' },
        { op: 'tint', color: '#704214' },
      ],
      output: { keepProfile: true },
    });
    expect(toQuery(draft)).toBe('extend=5,20,20,20:mirror&roundCorners=50%25&tint=704214&keepProfile=true');
  });

  it('writes trim, flatten, negate, normalize and frame in the query syntax the API parses', () => {
    const op = (o: string, values: Record<string, string> = {}, key = 0) => ({ key, op: o, values });
    const draft: DraftSpec = {
      operations: [op('frame', { frames: 'first' }), op('trim', { background: '#fff' }), op('flatten', { background: '#000000' }), op('negate'), op('normalize'), op('trim', { threshold: '0' })],
      format: 'png',
      quality: '',
    };
    expect(validateSpec(draft)).toEqual({});
    expect(toQuery(draft)).toBe('frame=first&trim=10:fff&flatten=000000&negate=true&normalize=true&trim=0&format=png');
    expect(validateSpec({ ...draft, operations: [op('frame', { index: '1', frames: 'all' })] })).toEqual({ 'operations.0.index': 'or Frames: give one, not both' });
    expect(validateSpec({ ...draft, operations: [op('frame')] })).toEqual({ 'operations.0.index': 'give index or frames' });
  });
});
