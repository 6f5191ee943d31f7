import { LookupAddress } from 'node:dns';
import { checkWebhookUrl, LookupFn } from './check-webhook-url.util';
import { WebhookUrlRejectedError } from './webhook-url-rejected.error';

const answers =
  (...addresses: string[]): LookupFn =>
  async () =>
    addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));

async function rejection(url: string, lookup?: LookupFn): Promise<WebhookUrlRejectedError> {
  const err = await checkWebhookUrl(url, { allowedHosts: [], lookup }).catch((e) => e);
  expect(err).toBeInstanceOf(WebhookUrlRejectedError);
  return err;
}

describe('checkWebhookUrl', () => {
  it.each([
    ['http://169.254.169.254/latest/meta-data', /169\.254\.169\.254/],
    ['http://10.0.0.1/', /private or reserved address \(10\.0\.0\.1\)/],
    ['http://[::ffff:127.0.0.1]/', /::ffff:7f00:1/],
    ['http://2130706433/', /127\.0\.0\.1/],
    ['http://0177.0.0.1/', /127\.0\.0\.1/],
    ['http://0x7f.1/', /127\.0\.0\.1/],
    ['http://127.1/', /127\.0\.0\.1/],
    ['http://localhost/', /resolves to a private or reserved address/],
    ['http://[::1]/', /::1/],
    ['http://[fe80::1]/', /fe80::1/],
    ['http://[fc00::1]/', /fc00::1/],
    ['http://100.64.0.1/', /100\.64\.0\.1/],
    ['http://0.0.0.0/', /0\.0\.0\.0/],
    ['http://[::]/', /\(::\)/],
    ['http://224.0.0.1/', /224\.0\.0\.1/],
    ['http://172.16.5.4/', /172\.16\.5\.4/],
    ['http://192.168.1.1/', /192\.168\.1\.1/],
    ['http://[::ffff:a9fe:a9fe]/', /::ffff:a9fe:a9fe/],
    ['http://[64:ff9b::a00:1]/', /64:ff9b::a00:1/],
    ['ftp://example.com/', /must use http or https/],
    ['file:///etc/passwd', /must use http or https/],
    ['http://user:pw@example.com/', /must not contain credentials/],
    ['http://:pw@example.com/', /must not contain credentials/],
    ['not a url', /not a valid URL/],
    [`https://example.com/${'a'.repeat(2048)}`, /longer than 2048 characters/],
  ])('refuses %s', async (url, reason) => {
    expect((await rejection(url)).reason).toMatch(reason);
  });

  it('lets an allowed host through without address checks', async () => {
    const target = await checkWebhookUrl('http://127.0.0.1:8080/hook', { allowedHosts: ['127.0.0.1'] });
    expect(target).toEqual({ url: new URL('http://127.0.0.1:8080/hook'), address: '127.0.0.1', family: 4 });
  });

  it('matches allowed hosts case-insensitively and IPv6 without brackets', async () => {
    const lookup = answers('10.1.2.3');
    await expect(
      checkWebhookUrl('https://Receiver.Internal/hook', { allowedHosts: ['receiver.internal'], lookup }),
    ).resolves.toMatchObject({ address: '10.1.2.3', family: 4 });
    await expect(checkWebhookUrl('http://[::1]:9000/', { allowedHosts: ['[::1]'] })).resolves.toMatchObject({
      address: '::1',
      family: 6,
    });
  });

  it('does not let an allowed host vouch for another', async () => {
    await expect(
      checkWebhookUrl('http://127.0.0.2/', { allowedHosts: ['127.0.0.1'] }),
    ).rejects.toBeInstanceOf(WebhookUrlRejectedError);
  });

  it('accepts a hostname that resolves to a public address, and returns that address', async () => {
    const target = await checkWebhookUrl('https://hooks.example.com/pixmill', {
      allowedHosts: [],
      lookup: answers('2606:4700:4700::1111', '93.184.215.14'),
    });
    expect(target.url.href).toBe('https://hooks.example.com/pixmill');
    expect(target).toMatchObject({ address: '2606:4700:4700::1111', family: 6 });
  });

  it('refuses a hostname when any of its addresses is private', async () => {
    const err = await rejection('https://hooks.example.com/', answers('93.184.215.14', '10.0.0.1'));
    expect(err.reason).toBe('webhookUrl resolves to a private or reserved address (10.0.0.1)');
  });

  it('refuses a hostname that does not resolve', async () => {
    expect((await rejection('https://nowhere.example/', answers())).reason).toMatch(/does not resolve/);
    const failing: LookupFn = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.example'), { code: 'ENOTFOUND' });
    };
    expect((await rejection('https://nowhere.example/', failing)).reason).toMatch(/does not resolve/);
  });

  it('asks DNS for every address, in the order the resolver gives them', async () => {
    const lookup = jest.fn(answers('93.184.215.14'));
    await checkWebhookUrl('http://hooks.example.com/', { allowedHosts: [], lookup });
    expect(lookup).toHaveBeenCalledWith('hooks.example.com', { all: true, verbatim: true });
  });
});
