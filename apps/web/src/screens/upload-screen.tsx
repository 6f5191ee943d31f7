import { useQueryClient } from '@tanstack/react-query';
import { useMemo, useRef, useState, useSyncExternalStore, type DragEvent } from 'react';
import { session } from '../api/session';
import type { Image } from '@pixmill/sdk';
import { formatBytes } from '../app/format';
import { UploadQueue, type Uploader } from '../upload/upload-queue';

export function UploadPanel({ uploader, onUploaded }: { uploader: Uploader; onUploaded?: (image: Image) => void }) {
  const queue = useMemo(() => new UploadQueue(uploader, 3, onUploaded), [uploader, onUploaded]);
  const items = useSyncExternalStore(queue.subscribe, queue.snapshot);
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const drop = (e: DragEvent): void => {
    e.preventDefault();
    setOver(false);
    queue.add(Array.from(e.dataTransfer.files));
  };
  return (
    <section aria-label="Upload">
      <div
        className={over ? 'dropzone over' : 'dropzone'}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={drop}
      >
        <p>Drop images here, or</p>
        <button type="button" onClick={() => input.current?.click()}>
          Choose files
        </button>
        <input
          ref={input}
          type="file"
          multiple
          accept="image/*"
          aria-label="Images to upload"
          className="visually-hidden"
          onChange={(e) => {
            queue.add(Array.from(e.target.files ?? []));
            e.target.value = '';
          }}
        />
      </div>
      {items.length > 0 && (
        <>
          <ul className="uploads" aria-label="Uploads">
            {items.map((item) => (
              <li key={item.id} data-state={item.state}>
                <span className="name">{item.file.name}</span>
                <span className="size">{formatBytes(item.file.size)}</span>
                <progress max={1} value={item.progress} aria-label={`${item.file.name} progress`} />
                <span className="state">{item.state === 'failed' ? item.error : item.state}</span>
                {(item.state === 'waiting' || item.state === 'uploading') && (
                  <button type="button" onClick={() => queue.cancel(item.id)} aria-label={`Cancel ${item.file.name}`}>
                    Cancel
                  </button>
                )}
              </li>
            ))}
          </ul>
          <button type="button" onClick={() => queue.clearFinished()}>
            Clear finished
          </button>
        </>
      )}
    </section>
  );
}

const upload: Uploader = (file, onProgress) => session.upload(file, onProgress);

export function UploadScreen() {
  const client = useQueryClient();
  const onUploaded = useMemo(() => () => void client.invalidateQueries({ queryKey: ['images'] }), [client]);
  return (
    <main>
      <h1>Upload</h1>
      <UploadPanel uploader={upload} onUploaded={onUploaded} />
    </main>
  );
}
