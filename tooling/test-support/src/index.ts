export { type AiosmtpdMessage, type AiosmtpdOptions, type AiosmtpdPeer, startAiosmtpd } from './aiosmtpd.js';
export {
  createTestCertificates,
  type TestCertificateOptions,
  type TestCertificates,
} from './certificates.js';
export { requireTool } from './require-tool.js';
