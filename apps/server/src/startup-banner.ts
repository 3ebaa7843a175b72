import type { RunningApp } from './app.js';

type BannerFacts = Pick<
  RunningApp,
  'smtpAddress' | 'smtpsAddress' | 'pop3Address' | 'pop3sAddress' | 'mtaListeners' | 'httpUrl' | 'dataDir'
>;

function url(scheme: string, address: { readonly host: string; readonly port: number }): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${scheme}://${host}:${address.port}`;
}

/**
 * What a person starting the app on a terminal needs, in a few lines: where to send mail, where
 * the inbox is, where the data lives. (Not a TTY: the same facts are in the JSON start record.)
 */
export function formatStartupBanner(app: BannerFacts, mode: 'capture' | 'mta'): string {
  const rows: [string, string][] =
    mode === 'mta'
      ? app.mtaListeners.map(({ role, address }) => [
          role,
          url('smtp', { host: address.address, port: address.port }),
        ])
      : [['SMTP', url('smtp', app.smtpAddress)]];
  if (app.smtpsAddress !== null) rows.push(['SMTPS', url('smtps', app.smtpsAddress)]);
  if (app.pop3Address !== null) rows.push(['POP3', url('pop3', app.pop3Address)]);
  if (app.pop3sAddress !== null) rows.push(['POP3S', url('pop3s', app.pop3sAddress)]);
  rows.push(['Inbox', app.httpUrl], ['Data', app.dataDir]);
  const width = Math.max(...rows.map(([label]) => label.length));
  return [
    mode === 'mta' ? 'smtp-app is running as an MTA' : 'smtp-app is capturing mail',
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
    mode === 'mta'
      ? 'Ctrl+C stops.'
      : `Send mail to ${app.smtpAddress.host} port ${app.smtpAddress.port}; Ctrl+C stops.`,
    '',
  ].join('\n');
}
