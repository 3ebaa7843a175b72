export { type AiosmtpdMessage, type AiosmtpdOptions, type AiosmtpdPeer, startAiosmtpd } from './aiosmtpd.js';
export {
  createTestCertificates,
  type TestCertificateOptions,
  type TestCertificates,
} from './certificates.js';
export {
  type DnsQuery,
  type DnsRecordTypeName,
  type DnsStub,
  type DnsZone,
  dnsblName,
  dnsRecordTypes,
  startDnsStub,
  type TxtRecord,
  txtCharacterStrings,
  type ZoneEntry,
} from './dns-stub.js';
export { type DovecotInstance, type DovecotOptions, startDovecot } from './dovecot.js';
export {
  type PostfixDelivery,
  type PostfixInstance,
  type PostfixOptions,
  type PostfixRelay,
  startPostfix,
} from './postfix.js';
export { type PostgresInstance, type PostgresOptions, startPostgres } from './postgres.js';
export { requireTool } from './require-tool.js';
