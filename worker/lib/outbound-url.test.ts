import { describe, expect, it } from 'vitest';
import { refuseOutboundUrl } from './outbound-url';

const deployed = { allowPrivate: false };
const local = { allowPrivate: true };

describe('outbound URLs', () => {
  it('accepts public https hosts everywhere', () => {
    for (const url of ['https://api.github.com', 'https://acme.atlassian.net', 'https://ghe.example.com/api/v3', 'https://8.8.8.8/x', 'https://[2606:4700::1111]/']) {
      expect(refuseOutboundUrl(url, deployed), url).toBeUndefined();
    }
  });

  it('refuses link-local and cloud metadata addresses in every deployment, however they are written', () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'https://169.254.169.254/',
      'https://2852039166/', // 169.254.169.254 as one number
      'https://0xa9.0xfe.0xa9.0xfe/',
      'https://169.254.1.1/',
      'https://[::ffff:169.254.169.254]/',
      'https://[fe80::1]/',
      'https://[fd00:ec2::254]/',
      'https://metadata.google.internal/computeMetadata/v1/',
      'https://metadata/',
      'https://100.100.100.200/',
    ]) {
      expect(refuseOutboundUrl(url, local), url).toMatch(/link-local|metadata/);
      expect(refuseOutboundUrl(url, deployed), url).toBeDefined();
    }
  });

  it('refuses loopback and private addresses unless the deployment allows them, and plain http to any public host', () => {
    for (const url of ['http://127.0.0.1:9/api/v3', 'https://localhost:8443', 'https://10.0.0.5', 'https://172.20.1.1', 'https://192.168.1.10', 'https://[::1]/', 'https://[fd12::1]/', 'https://0.0.0.0/', 'https://jira.corp.internal', 'https://printer.local', 'https://intranet']) {
      expect(refuseOutboundUrl(url, deployed), url).toMatch(/loopback|private|https/);
      expect(refuseOutboundUrl(url, local), url).toBeUndefined();
    }
    for (const url of ['http://api.github.com', 'http://jira.example.com']) {
      expect(refuseOutboundUrl(url, local), url).toMatch(/https/);
      expect(refuseOutboundUrl(url, deployed), url).toMatch(/https/);
    }
  });

  it('refuses other schemes, user info and reserved addresses', () => {
    expect(refuseOutboundUrl('ftp://example.com', local)).toMatch(/https/);
    expect(refuseOutboundUrl('file:///etc/passwd', local)).toMatch(/https/);
    expect(refuseOutboundUrl('https://user:pw@example.com', local)).toMatch(/user name/);
    expect(refuseOutboundUrl('https://224.0.0.1', local)).toMatch(/reserved/);
    expect(refuseOutboundUrl('not a url', local)).toMatch(/absolute/);
  });
});
