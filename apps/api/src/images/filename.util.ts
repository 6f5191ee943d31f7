/**
 * A client's filename, kept only as metadata: directory parts and control or
 * bidi-override characters removed, whitespace collapsed, at most 255 chars.
 * Storage keys never derive from it.
 */
export function sanitizeFilename(raw: string | undefined, fallback = 'upload'): string {
  const base = (raw ?? '').split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\.+/, '');
  return (cleaned || fallback).slice(0, 255);
}
