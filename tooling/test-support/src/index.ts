export { type AiosmtpdMessage, type AiosmtpdOptions, type AiosmtpdPeer, startAiosmtpd } from './aiosmtpd.js';
export {
  createTestCertificates,
  type TestCertificateOptions,
  type TestCertificates,
} from './certificates.js';
export {
  type PostfixDelivery,
  type PostfixInstance,
  type PostfixOptions,
  type PostfixRelay,
  startPostfix,
} from './postfix.js';
export { requireTool } from './require-tool.js';
