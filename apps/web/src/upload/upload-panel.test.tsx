import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { PixmillError, type Image } from '@pixmill/sdk';
import type { UploadHandle } from '../api/session';
import { UploadPanel } from '../screens/upload-screen';
import type { Uploader } from './upload-queue';

/** An uploader the test drives by hand: each call is a pending upload it can advance, finish or refuse. */
function manualUploader() {
  const calls: { file: File; progress: (f: number) => void; resolve: (i: Image) => void; reject: (e: unknown) => void; aborted: boolean }[] = [];
  const uploader: Uploader = (file, progress): UploadHandle => {
    let resolve!: (i: Image) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<Image>((res, rej) => ((resolve = res), (reject = rej)));
    const call = { file, progress, resolve, reject, aborted: false };
    calls.push(call);
    return { promise, abort: () => ((call.aborted = true), reject(new DOMException('The upload was aborted', 'AbortError'))) };
  };
  return { uploader, calls };
}
const file = (name: string, bytes = 1000): File => new File([new Uint8Array(bytes)], name, { type: 'image/jpeg' });
const image = (name: string): Image => ({ id: name, filename: name } as Image);
const row = (name: string): HTMLElement => screen.getByText(name).closest('li')!;
const settle = () => act(async () => await new Promise((r) => setTimeout(r, 0)));

describe('upload queue', () => {
  it('uploads three at a time, shows per-file progress, and starts the next as one ends', async () => {
    const { uploader, calls } = manualUploader();
    const done: string[] = [];
    render(<UploadPanel uploader={uploader} onUploaded={(i) => done.push(i.filename)} />);
    const files = Array.from({ length: 5 }, (_, i) => file(`p${i}.jpg`));
    fireEvent.change(screen.getByLabelText('Images to upload'), { target: { files } });
    expect(calls.map((c) => c.file.name)).toEqual(['p0.jpg', 'p1.jpg', 'p2.jpg']);
    expect(row('p3.jpg').dataset.state).toBe('waiting');
    act(() => calls[0].progress(0.4));
    expect((within(row('p0.jpg')).getByLabelText('p0.jpg progress') as HTMLProgressElement).value).toBe(0.4);
    calls[0].resolve(image('p0.jpg'));
    await settle();
    expect(row('p0.jpg').dataset.state).toBe('done');
    expect(done).toEqual(['p0.jpg']);
    expect(calls.map((c) => c.file.name)).toEqual(['p0.jpg', 'p1.jpg', 'p2.jpg', 'p3.jpg']);
  });

  it('cancels an upload in flight and one still waiting', async () => {
    const { uploader, calls } = manualUploader();
    render(<UploadPanel uploader={uploader} />);
    fireEvent.change(screen.getByLabelText('Images to upload'), { target: { files: ['a', 'b', 'c', 'd'].map((n) => file(`${n}.jpg`)) } });
    fireEvent.click(screen.getByRole('button', { name: 'Cancel d.jpg' }));
    fireEvent.click(screen.getByRole('button', { name: 'Cancel a.jpg' }));
    await settle();
    expect(calls[0].aborted).toBe(true);
    expect(row('a.jpg').dataset.state).toBe('canceled');
    expect(row('d.jpg').dataset.state).toBe('canceled');
    // The freed slot does not start the canceled file.
    expect(calls.map((c) => c.file.name)).toEqual(['a.jpg', 'b.jpg', 'c.jpg']);
    fireEvent.click(screen.getByRole('button', { name: 'Clear finished' }));
    expect(screen.queryByText('a.jpg')).toBeNull();
    expect(screen.getByText('b.jpg')).toBeTruthy();
  });

  it('says why the API refused a file, from its problem code', async () => {
    const { uploader, calls } = manualUploader();
    render(<UploadPanel uploader={uploader} />);
    fireEvent.change(screen.getByLabelText('Images to upload'), { target: { files: [file('big.jpg'), file('notes.txt'), file('over.jpg')] } });
    calls[0].reject(new PixmillError('file_too_large', 'The file is larger than 10485760 bytes.', 413, { problem: { status: 413, code: 'file_too_large', title: 'Payload Too Large', detail: 'The file is larger than 10485760 bytes.' } }));
    calls[1].reject(new PixmillError('unsupported_media_type', 'Unsupported Media Type', 415));
    calls[2].reject(new PixmillError('storage_quota_exceeded', 'Forbidden', 403));
    await settle();
    expect(within(row('big.jpg')).getByText('Too large: The file is larger than 10485760 bytes.')).toBeTruthy();
    expect(within(row('notes.txt')).getByText(/^Unsupported type/)).toBeTruthy();
    expect(within(row('over.jpg')).getByText(/^Storage quota exceeded/)).toBeTruthy();
    expect(['big.jpg', 'notes.txt', 'over.jpg'].map((n) => row(n).dataset.state)).toEqual(['failed', 'failed', 'failed']);
  });
});
