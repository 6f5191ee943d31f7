/** One account mail, in both parts every message carries. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The link the message is about, logged when the message is written to a file (no SMTP). */
  link: string;
}
