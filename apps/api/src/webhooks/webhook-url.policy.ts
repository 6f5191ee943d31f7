import { Injectable } from '@nestjs/common';
import { UnavailableException, ValidationFailedException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { checkWebhookUrl, WebhookUrlRejectedError } from '@pixmill/webhooks';

/**
 * The registration-time SSRF check of every webhook URL a user gives (a job's or an
 * upload's webhookUrl, an endpoint's url): 400 naming the field when refused. The
 * worker checks again at every delivery and connects only to the address it checked.
 */
@Injectable()
export class WebhookUrlPolicy {
  constructor(private readonly config: AppConfig) {}

  async check(raw: unknown, field: string): Promise<string> {
    if (typeof raw !== 'string') throw new ValidationFailedException([{ field, message: `${field} must be an http(s) URL` }]);
    try {
      const { url } = await checkWebhookUrl(raw, { allowedHosts: this.config.webhooks.allowedHosts });
      return url.toString();
    } catch (err) {
      if (err instanceof WebhookUrlRejectedError) {
        throw new ValidationFailedException([{ field, message: err.reason.replace(/^webhookUrl\b/, field) }]);
      }
      throw new UnavailableException('The webhook URL could not be checked; try again.');
    }
  }
}
