import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTransport } from 'nodemailer';
import { AppConfig } from '@pixmill/config';
import type { MailMessage } from './mail-message';

type Transport = ReturnType<typeof createTransport>;

/**
 * Sends account mail with nodemailer: over SMTP when SMTP_URL is set, otherwise each
 * message is built the same way and written as an .eml file under MAIL_DIR (./data/mail),
 * its link logged, so a lone `npm start` can still sign up and reset passwords.
 */
@Injectable()
export class MailerService implements OnApplicationShutdown {
  private readonly logger = new Logger(MailerService.name);
  private readonly transport: Transport;
  private readonly toFiles: boolean;
  /** Sends started by sendInBackground and not settled yet; shutdown waits for them. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly config: AppConfig) {
    const { smtpUrl, mailFrom } = config.accounts;
    this.toFiles = !smtpUrl;
    this.transport = smtpUrl
      ? createTransport(smtpUrl, { from: mailFrom })
      : createTransport({ streamTransport: true, buffer: true, newline: 'unix' }, { from: mailFrom });
  }

  /** Sends one message; rejects when the SMTP server refuses it or cannot be reached. */
  async send(message: MailMessage): Promise<void> {
    const info = await this.transport.sendMail({ to: message.to, subject: message.subject, text: message.text, html: message.html });
    if (!this.toFiles) return;
    const dir = this.config.accounts.mailDir;
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${String(info.messageId).replace(/[^A-Za-z0-9-]/g, '')}.eml`);
    await writeFile(file, info.message as Buffer);
    this.logger.log({ msg: 'mail written to a file (no SMTP_URL)', file, to: message.to, subject: message.subject, link: message.link });
  }

  /**
   * Sends after the request has been answered, so the answer neither waits for the mail
   * server nor, by its timing, tells whether a mail was sent. A failure is logged with a code.
   */
  sendInBackground(message: MailMessage): void {
    const sending = this.send(message).catch((err: Error) => {
      this.logger.error({ msg: 'account mail not sent', code: 'mail_failed', subject: message.subject, error: err.message });
    });
    this.inFlight.add(sending);
    void sending.finally(() => this.inFlight.delete(sending));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.inFlight);
    this.transport.close();
  }
}
