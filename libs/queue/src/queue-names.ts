/** Every queue Pixmill runs. */
export enum QueueName {
  System = 'system',
  Transform = 'transform',
  Cleanup = 'cleanup',
}

/** Every job name, and the queue that carries it. */
export enum JobName {
  Ping = 'ping',
  Thumbnail = 'thumbnail',
  Transform = 'transform',
  StorageCleanup = 'storage-cleanup',
}

export const JOB_QUEUE: Record<JobName, QueueName> = {
  [JobName.Ping]: QueueName.System,
  [JobName.Thumbnail]: QueueName.Transform,
  [JobName.Transform]: QueueName.Transform,
  [JobName.StorageCleanup]: QueueName.Cleanup,
};
