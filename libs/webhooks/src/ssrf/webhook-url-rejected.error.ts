/** A webhook URL Pixmill refuses to call; `reason` is written for the user who gave the URL. */
export class WebhookUrlRejectedError extends Error {
  readonly code = 'webhook_url_rejected';

  constructor(readonly reason: string) {
    super(reason);
    this.name = 'WebhookUrlRejectedError';
  }
}
