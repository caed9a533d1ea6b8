import { describe, expect, it } from 'vitest';
import { redactUrl, redactUrlsIn } from '../../src/shared/redact.js';

describe('redacting URLs', () => {
  it('blanks user, password and query; keeps scheme, host, port and path', () => {
    expect(redactUrl('https://me:pw@ip.example.net:8443/v1/ip?token=abc#x')).toBe('https://***:***@ip.example.net:8443/v1/ip?***');
    expect(redactUrl('https://api.ipify.org')).toBe('https://api.ipify.org/');
    expect(redactUrl('not a url')).toBe('not a url');
  });
  it('rewrites a message that quotes the URL', () => {
    const u = 'http://u:p@h/?k=v';
    expect(redactUrlsIn(`GET ${u} failed: ECONNREFUSED`, [u])).toBe('GET http://***:***@h/?*** failed: ECONNREFUSED');
  });
});
