import { OPERATION_NAMES, TransformationSpec } from './transformation-spec.types';

const KNOWN = new Set<string>(OPERATION_NAMES);

/**
 * A short name for what a spec does, for metrics and logs: its operation names in order,
 * each once (`resize+rotate+resize` → `resize+rotate`), joined with '+'; `none` for a pure
 * re-encode. Parameters are left out so the set of values stays small; a name that is not
 * an operation (a row written by a newer version) reads `unknown`.
 */
export function operationChain(spec: Pick<TransformationSpec, 'operations'>): string {
  const names: string[] = [];
  for (const { op } of spec.operations ?? []) {
    const name = KNOWN.has(op) ? op : 'unknown';
    if (!names.includes(name)) names.push(name);
  }
  return names.length ? names.join('+') : 'none';
}
