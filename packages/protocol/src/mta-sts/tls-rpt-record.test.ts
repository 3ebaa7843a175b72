import { describe, expect, it } from 'vitest';
import { parseTlsRptRecords } from './tls-rpt-record.js';

describe('parseTlsRptRecords (RFC 8460 §3)', () => {
  it('reads the report addresses of the one TLSRPTv1 record', () => {
    expect(parseTlsRptRecords(['v=TLSRPTv1; rua=mailto:tlsrpt@example.com'])).toEqual({
      rua: ['mailto:tlsrpt@example.com'],
    });
    expect(
      parseTlsRptRecords([
        'v=spf1 -all',
        'v=TLSRPTv1;rua=mailto:a@example.com, https://reports.example.com/tls;',
      ]),
    ).toEqual({ rua: ['mailto:a@example.com', 'https://reports.example.com/tls'] });
  });

  it('means none for no record, two records, no rua, or a report URI that is neither mailto: nor https:', () => {
    expect(parseTlsRptRecords([])).toBeNull();
    expect(
      parseTlsRptRecords(['v=TLSRPTv1; rua=mailto:a@x.test', 'v=TLSRPTv1; rua=mailto:b@x.test']),
    ).toBeNull();
    expect(parseTlsRptRecords(['v=TLSRPTv1;'])).toBeNull();
    expect(parseTlsRptRecords(['v=TLSRPTv1; rua=http://insecure.example.com/'])).toBeNull();
    expect(parseTlsRptRecords(['v=TLSRPTv2; rua=mailto:a@x.test'])).toBeNull();
  });
});
