/** Every queue Pixmill runs. */
export enum QueueName {
  System = 'system',
}

/** Every job name, and the queue that carries it. */
export enum JobName {
  Ping = 'ping',
}

export const JOB_QUEUE: Record<JobName, QueueName> = {
  [JobName.Ping]: QueueName.System,
};
