import { describe, expect, it } from 'vitest';
import { checkListUnsubscribe } from './list-unsubscribe-check.js';

const check = (fields: Record<string, string | string[]>) =>
  checkListUnsubscribe(
    Object.entries(fields).flatMap(([name, value]) =>
      (Array.isArray(value) ? value : [value]).map((one) => ({ name, value: one })),
    ),
  );
const codes = (report: ReturnType<typeof check>) =>
  report.findings.map((finding) => `${finding.level}:${finding.code}`);

describe('checkListUnsubscribe (RFC 2369, RFC 8058)', () => {
  it('accepts a signed one-click set-up with mailto and https URIs', () => {
    const report = check({
      'List-Unsubscribe':
        '<mailto:unsub@list.example?subject=unsubscribe>, (web) <https://list.example/u/42>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'DKIM-Signature':
        'v=1; a=rsa-sha256; d=list.example; s=s1;\th=From : To:Subject:List-Unsubscribe:List-Unsubscribe-Post; bh=x; b=y',
    });
    expect(report.findings).toEqual([]);
    expect(report.uris).toEqual([
      { uri: 'mailto:unsub@list.example?subject=unsubscribe', scheme: 'mailto' },
      { uri: 'https://list.example/u/42', scheme: 'https' },
    ]);
    expect(report.isOneClick).toBe(true);
    expect(report.isDkimCovered).toBe(true);
  });

  it('flags URIs outside angle brackets, bad mailto addresses and unknown schemes', () => {
    expect(codes(check({ 'List-Unsubscribe': 'https://list.example/u' }))).toEqual(['error:not-bracketed']);
    expect(codes(check({ 'List-Unsubscribe': '<mailto:nobody>, <ftp://list.example/u>' }))).toEqual([
      'error:mailto-address',
      'warning:other-scheme',
    ]);
    expect(codes(check({ 'List-Unsubscribe': '<ftp://list.example/u>' }))).toEqual([
      'warning:other-scheme',
      'warning:no-https-or-mailto',
    ]);
    expect(codes(check({ 'List-Unsubscribe': '<https://list.example/u' }))).toContain('error:unclosed');
    expect(codes(check({ 'List-Unsubscribe': '<unsubscribe-here>' }))).toEqual(['error:no-scheme']);
    expect(codes(check({ 'List-Unsubscribe': ' , ' }))).toEqual(['error:empty']);
  });

  it('checks List-Unsubscribe-Post: exact value, an https URI, a header to go with it', () => {
    expect(
      codes(
        check({
          'List-Unsubscribe': '<mailto:u@list.example>',
          'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        }),
      ),
    ).toEqual(['error:post-without-https', 'error:one-click-unsigned']);
    expect(
      codes(
        check({ 'List-Unsubscribe': '<https://list.example/u>', 'List-Unsubscribe-Post': 'One-Click=yes' }),
      ),
    ).toEqual(['error:post-value', 'error:one-click-unsigned']);
    expect(codes(check({ 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' }))).toEqual([
      'error:post-without-header',
    ]);
    expect(codes(check({ 'List-Unsubscribe': '<https://list.example/u>' }))).toEqual([
      'warning:no-one-click',
    ]);
    expect(codes(check({ 'List-Unsubscribe': '<http://list.example/u>' }))).toEqual([
      'warning:plain-http',
      'warning:no-https-or-mailto',
    ]);
  });

  it('requires a DKIM signature covering both fields when one exists', () => {
    const unsigned = check({
      'List-Unsubscribe': '<https://list.example/u>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'DKIM-Signature': 'v=1; d=list.example; h=from:to:subject:list-unsubscribe; bh=x; b=y',
    });
    expect(unsigned.isDkimCovered).toBe(false);
    expect(codes(unsigned)).toEqual(['error:not-signed']);
    expect(check({ 'List-Unsubscribe': '<https://list.example/u>' }).isDkimCovered).toBeNull();
  });

  it('warns when absent and errs when repeated', () => {
    expect(codes(check({ Subject: 'hi' }))).toEqual(['warning:missing']);
    expect(
      codes(check({ 'List-Unsubscribe': ['<mailto:a@list.example>', '<mailto:b@list.example>'] })),
    ).toEqual(['error:repeated']);
  });
});
