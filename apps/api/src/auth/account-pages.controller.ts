import { Controller, Get, Header } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/public.decorator';

const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'",
  'referrer-policy': 'no-referrer',
};

function page(title: string, form: string, script: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title} · Pixmill</title>
<style>body{font-family:sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}input,button{font-size:1rem;padding:.4rem;margin:.3rem 0;width:100%}</style>
</head><body><h1>${title}</h1>${form}<p id="result" role="status"></p>
<script>
const token = new URLSearchParams(location.search).get('token') || '';
const result = document.getElementById('result');
async function post(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.ok) return true;
  const problem = await res.json().catch(() => ({}));
  result.textContent = problem.detail || 'Something went wrong (' + res.status + ').';
  return false;
}
${script}
</script></body></html>
`;
}

/**
 * The pages the links in account mails open: a button that spends the token with the
 * API (a GET alone changes nothing, so mail scanners that fetch links spend no token).
 */
@ApiTags('account')
@ApiProduces('text/html')
@ApiQuery({ name: 'token', required: true, description: 'The token of the mailed link.' })
@Public()
@Controller('account')
export class AccountPagesController {
  @Get('verify-email')
  @ApiOperation({ summary: 'The page a verification link opens', description: 'Its button calls POST /v1/auth/verify.' })
  @ApiResponse({ status: 200, description: 'An HTML page.', content: { 'text/html': { schema: { type: 'string' } } } })
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', PAGE_HEADERS['content-security-policy'])
  @Header('referrer-policy', PAGE_HEADERS['referrer-policy'])
  verifyEmail(): string {
    return page(
      'Verify your email address',
      '<form id="f" data-api="/v1/auth/verify"><button type="submit">Verify</button></form>',
      `document.getElementById('f').onsubmit = async (e) => { e.preventDefault();
  if (await post('/v1/auth/verify', { token })) result.textContent = 'Your address is verified. You can close this page.'; };`,
    );
  }

  @Get('reset-password')
  @ApiOperation({ summary: 'The page a password reset link opens', description: 'Its form calls POST /v1/auth/password-reset/confirm.' })
  @ApiResponse({ status: 200, description: 'An HTML page.', content: { 'text/html': { schema: { type: 'string' } } } })
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', PAGE_HEADERS['content-security-policy'])
  @Header('referrer-policy', PAGE_HEADERS['referrer-policy'])
  resetPassword(): string {
    return page(
      'Choose a new password',
      '<form id="f" data-api="/v1/auth/password-reset/confirm"><input id="p" type="password" minlength="8" required autocomplete="new-password" placeholder="New password"><button type="submit">Set password</button></form>',
      `document.getElementById('f').onsubmit = async (e) => { e.preventDefault();
  if (await post('/v1/auth/password-reset/confirm', { token, password: document.getElementById('p').value })) result.textContent = 'Your password is changed and every session is logged out. Log in with the new password.'; };`,
    );
  }
}
