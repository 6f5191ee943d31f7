import { ValidationFailedException } from '@pixmill/common';

/** Keyset position of a list sorted by (created_at DESC, id DESC). */
export interface ListPosition {
  createdAt: Date;
  id: string;
}

/** Opaque cursor for the next page: the last item's position, base64url JSON. */
export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(JSON.stringify({ t: createdAt.toISOString(), id })).toString('base64url');
}

export function decodeCursor(raw: string): ListPosition {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString());
    if (typeof c.t === 'string' && !Number.isNaN(Date.parse(c.t)) && /^[0-9a-f-]{36}$/i.test(c.id)) {
      return { createdAt: new Date(c.t), id: c.id };
    }
  } catch {
    /* fall through */
  }
  throw new ValidationFailedException([{ field: 'cursor', message: 'cursor is not valid' }]);
}
