/** Every queue Pixmill runs. */
export enum QueueName {
  System = 'system',
  Transform = 'transform',
  Cleanup = 'cleanup',
  Webhook = 'webhook',
}

/** Every job name, and the queue that carries it. */
export enum JobName {
  Ping = 'ping',
  Thumbnail = 'thumbnail',
  Transform = 'transform',
  StorageCleanup = 'storage-cleanup',
  WebhookDelivery = 'webhook-delivery',
}

export const JOB_QUEUE: Record<JobName, QueueName> = {
  [JobName.Ping]: QueueName.System,
  [JobName.Thumbnail]: QueueName.Transform,
  [JobName.Transform]: QueueName.Transform,
  [JobName.StorageCleanup]: QueueName.Cleanup,
  [JobName.WebhookDelivery]: QueueName.Webhook,
};
