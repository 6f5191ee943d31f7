import type { MailMessage } from './mail-message';

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function message(to: string, subject: string, lead: string, action: string, link: string, after: string): MailMessage {
  const text = `${lead}\n\n${action}:\n${link}\n\n${after}\n\n— Pixmill\n`;
  const html = `<!doctype html>
<html><body style="font-family:sans-serif;line-height:1.5">
<p>${escapeHtml(lead)}</p>
<p><a href="${escapeHtml(link)}">${escapeHtml(action)}</a></p>
<p style="color:#666">${escapeHtml(after)}</p>
<p>— Pixmill</p>
</body></html>
`;
  return { to, subject, text, html, link };
}

export function verificationMail(to: string, link: string, ttlHours: number): MailMessage {
  return message(
    to,
    'Verify your email address for Pixmill',
    'Welcome to Pixmill. Please confirm that this address is yours.',
    'Verify your email address',
    link,
    `The link works once and for ${ttlHours} hours. If you did not sign up, ignore this message.`,
  );
}

export function passwordResetMail(to: string, link: string, ttlMinutes: number): MailMessage {
  return message(
    to,
    'Reset your Pixmill password',
    'Someone asked to reset the password of your Pixmill account.',
    'Choose a new password',
    link,
    `The link works once and for ${ttlMinutes} minutes; every session of the account is logged out when it is used. If you did not ask, ignore this message: your password stays as it is.`,
  );
}
