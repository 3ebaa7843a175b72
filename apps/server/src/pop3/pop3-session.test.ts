import { describe, expect, test } from 'vitest';
import { type MaildropEntry, type Pop3Event, Pop3Session, type Pop3SessionOptions } from './pop3-session.js';

const text = new TextEncoder();
const decoder = new TextDecoder();

const messages: Record<string, string> = {
  A: 'Subject: one\r\n\r\nfirst\r\n',
  B: 'Subject: two\r\n\r\n.dot line\r\nsecond\r\nthird\r\n',
};
const maildrop: MaildropEntry[] = Object.entries(messages).map(([id, body]) => ({
  id,
  sizeBytes: text.encode(body).length,
}));

const totalBytes = maildrop.reduce((sum, entry) => sum + entry.sizeBytes, 0);

/** A session with a scripted I/O layer: user "u", password "p"; records what it was asked. */
function open(options: Partial<Pop3SessionOptions> = {}) {
  const session = new Pop3Session({
    isTlsAvailable: true,
    isTlsActive: false,
    isPlaintextAuthAllowed: true,
    ...options,
  });
  const events: Pop3Event[] = [];
  const deleted: string[] = [];
  const answer = () => {
    for (let event = session.nextEvent(); event !== null; event = session.nextEvent()) {
      events.push(event);
      if (event.type === 'login') {
        if (event.username === 'u' && event.password === 'p') session.acceptLogin(maildrop);
        else session.rejectLogin('invalid-credentials');
      } else if (event.type === 'message-request') {
        const body = messages[event.id];
        if (body === undefined) session.messageFailed('gone');
        else {
          for (const byte of text.encode(body)) session.messageChunk(new Uint8Array([byte]));
          session.messageEnd();
        }
      } else if (event.type === 'update') {
        deleted.push(...event.deletedIds);
        session.updateEnd({ isSuccess: true, deletedCount: event.deletedIds.length });
      } else if (event.type === 'tls-ready') {
        session.tlsStarted();
      }
    }
  };
  const read = () => {
    const output = session.takeOutput();
    return output === null ? '' : decoder.decode(output);
  };
  answer();
  const greeting = read();
  return {
    session,
    events,
    deleted,
    greeting,
    /** Sends raw bytes, answers events, returns what the server wrote. */
    send(raw: string | Uint8Array) {
      session.receive(typeof raw === 'string' ? text.encode(raw) : raw);
      answer();
      return read();
    },
    command(line: string) {
      return this.send(`${line}\r\n`);
    },
  };
}

function loggedIn(options: Partial<Pop3SessionOptions> = {}) {
  const peer = open(options);
  peer.command('USER u');
  expect(peer.command('PASS p')).toMatch(/^\+OK Logged in; 2 messages/);
  return peer;
}

describe('Pop3Session: AUTHORIZATION', () => {
  test('greets with +OK and lists capabilities (RFC 2449)', () => {
    const peer = open();
    expect(peer.greeting).toBe('+OK smtp-app POP3 ready\r\n');
    expect(peer.command('CAPA')).toBe(
      '+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN\r\nSTLS\r\nIMPLEMENTATION smtp-app\r\n.\r\n',
    );
  });

  test('USER/PASS logs in and reports the maildrop', () => {
    const peer = open();
    expect(peer.command('user u')).toBe('+OK Send PASS\r\n');
    expect(peer.command('PASS p')).toBe(`+OK Logged in; 2 messages (${totalBytes} octets)\r\n`);
    expect(peer.session.state).toEqual({ phase: 'transaction', messageCount: 2 });
  });

  test('PASS without USER, and transaction commands before login, are refused', () => {
    const peer = open();
    expect(peer.command('PASS p')).toBe('-ERR Send USER first\r\n');
    expect(peer.command('STAT')).toBe('-ERR Command not valid in this state\r\n');
    expect(peer.events.filter((event) => event.type === 'command-rejected')).toEqual([
      { type: 'command-rejected', line: 'PASS', reply: 'passWithoutUser' },
      { type: 'command-rejected', line: 'STAT', reply: 'wrongState' },
    ]);
  });

  test('a wrong password gets -ERR [AUTH]; the third closes the session', () => {
    const peer = open();
    peer.command('USER u');
    expect(peer.command('PASS wrong')).toBe('-ERR [AUTH] Invalid user name or password\r\n');
    // RFC 1939 §7: after a failed PASS the client starts again with USER.
    expect(peer.command('PASS p')).toBe('-ERR Send USER first\r\n');
    peer.command('USER u');
    peer.command('PASS wrong');
    peer.command('USER u');
    expect(peer.command('PASS wrong')).toBe('-ERR [AUTH] Too many failed logins; closing\r\n');
    expect(peer.session.state).toEqual({ phase: 'closed', reason: 'too-many-failed-logins' });
    expect(peer.command('USER u')).toBe('');
  });

  test('throttled and store failures carry SYS/TEMP and do not count as failures', () => {
    const session = new Pop3Session({
      isTlsAvailable: false,
      isTlsActive: false,
      isPlaintextAuthAllowed: true,
    });
    session.takeOutput();
    for (let attempt = 0; attempt < 5; attempt += 1) {
      session.receive(text.encode('USER u\r\nPASS p\r\n'));
      const event = session.nextEvent();
      expect(event?.type).toBe('login');
      session.rejectLogin(attempt % 2 === 0 ? 'throttled' : 'store-unavailable');
      expect(session.nextEvent()).toBeNull();
      expect(decoder.decode(session.takeOutput() ?? new Uint8Array())).toMatch(
        /^\+OK Send PASS\r\n-ERR \[SYS\/TEMP\] /,
      );
    }
    expect(session.state.phase).toBe('authorization');
  });

  test('without a secure channel USER and AUTH PLAIN are refused and not advertised (RFC 2595 §4)', () => {
    const peer = open({ isPlaintextAuthAllowed: false });
    expect(peer.command('CAPA')).not.toMatch(/USER|SASL/);
    expect(peer.command('USER u')).toBe(
      '-ERR [AUTH] Plaintext authentication disallowed on non-secure connections; use STLS\r\n',
    );
    expect(peer.command('AUTH PLAIN AHUAcA==')).toMatch(/^-ERR \[AUTH\] Plaintext/);
    // After STLS the same client may log in; input sent before the handshake is dropped.
    expect(peer.send('STLS\r\nUSER injected\r\n')).toBe('+OK Begin TLS negotiation\r\n');
    expect(peer.session.state).toEqual({ phase: 'authorization', username: null });
    expect(peer.command('CAPA')).toMatch(/USER\r\nSASL PLAIN\r\nIMPLEMENTATION/);
    expect(peer.command('PASS p')).toBe('-ERR Send USER first\r\n');
    expect(peer.command('STLS')).toBe('-ERR TLS is already active\r\n');
    peer.command('USER u');
    expect(peer.command('PASS p')).toMatch(/^\+OK Logged in/);
  });

  test('STLS is refused when no certificate is there', () => {
    const peer = open({ isTlsAvailable: false });
    expect(peer.command('CAPA')).not.toMatch(/STLS/);
    expect(peer.command('STLS')).toBe('-ERR STLS is not offered\r\n');
  });

  test('AUTH PLAIN with an initial response, with a continuation, cancelled and malformed (RFC 5034)', () => {
    const credentials = Buffer.from('\0u\0p').toString('base64');
    expect(open().command(`AUTH PLAIN ${credentials}`)).toMatch(/^\+OK Logged in/);
    const continued = open();
    expect(continued.command('AUTH PLAIN')).toBe('+ \r\n');
    expect(continued.command(credentials)).toMatch(/^\+OK Logged in/);
    const cancelled = open();
    cancelled.command('AUTH PLAIN');
    expect(cancelled.command('*')).toBe('-ERR Authentication cancelled\r\n');
    expect(cancelled.session.state.phase).toBe('authorization');
    expect(open().command('AUTH PLAIN !!!')).toBe('-ERR Malformed SASL response\r\n');
    expect(open().command('AUTH PLAIN =')).toBe('-ERR Malformed SASL response\r\n');
    expect(open().command('AUTH CRAM-MD5')).toBe('-ERR Unsupported SASL mechanism\r\n');
    expect(open().command('AUTH')).toBe('+OK SASL mechanisms follow\r\nPLAIN\r\n.\r\n');
    const wrong = open();
    expect(wrong.command(`AUTH PLAIN ${Buffer.from('\0u\0x').toString('base64')}`)).toBe(
      '-ERR [AUTH] Invalid user name or password\r\n',
    );
    const proxy = open();
    expect(proxy.command(`AUTH PLAIN ${Buffer.from('other\0u\0p').toString('base64')}`)).toBe(
      '-ERR [AUTH] Not authorized to act as that identity\r\n',
    );
    expect(proxy.events.some((event) => event.type === 'login')).toBe(false);
  });

  test('QUIT in AUTHORIZATION closes without UPDATE', () => {
    const peer = open();
    expect(peer.command('QUIT')).toBe('+OK Bye\r\n');
    expect(peer.session.state).toEqual({ phase: 'closed', reason: 'quit' });
  });
});

describe('Pop3Session: TRANSACTION and UPDATE', () => {
  const [first, second] = maildrop as [MaildropEntry, MaildropEntry];

  test('STAT, LIST and UIDL count octets and ids of the snapshot', () => {
    const peer = loggedIn();
    expect(peer.command('STAT')).toBe(`+OK 2 ${first.sizeBytes + second.sizeBytes}\r\n`);
    expect(peer.command('LIST')).toBe(
      `+OK 2 messages (${first.sizeBytes + second.sizeBytes} octets)\r\n1 ${first.sizeBytes}\r\n2 ${second.sizeBytes}\r\n.\r\n`,
    );
    expect(peer.command('LIST 2')).toBe(`+OK 2 ${second.sizeBytes}\r\n`);
    expect(peer.command('UIDL')).toBe('+OK\r\n1 A\r\n2 B\r\n.\r\n');
    expect(peer.command('UIDL 1')).toBe('+OK 1 A\r\n');
    expect(peer.command('LIST 3')).toBe('-ERR No such message\r\n');
    expect(peer.command('LIST 0')).toBe('-ERR No such message\r\n');
    expect(peer.command('LIST x')).toBe('-ERR Bad arguments\r\n');
    // RFC 2449 §5: what AUTHORIZATION announced is announced in TRANSACTION too.
    expect(peer.command('CAPA')).toBe(open().command('CAPA'));
  });

  test('RETR sends the stored bytes, dot-stuffed, with the LIST size', () => {
    const peer = loggedIn();
    expect(peer.command('RETR 2')).toBe(
      `+OK ${second.sizeBytes} octets\r\nSubject: two\r\n\r\n..dot line\r\nsecond\r\nthird\r\n.\r\n`,
    );
    expect(peer.command('TOP 2 1')).toBe('+OK\r\nSubject: two\r\n\r\n..dot line\r\n.\r\n');
    expect(peer.command('TOP 2')).toBe('-ERR Bad arguments\r\n');
  });

  test('a message gone from the store answers -ERR [SYS/PERM]', () => {
    const peer = open();
    peer.session.receive(text.encode('USER u\r\nPASS p\r\n'));
    peer.session.nextEvent();
    peer.session.acceptLogin([{ id: 'missing', sizeBytes: 3 }]);
    peer.session.takeOutput();
    expect(peer.command('RETR 1')).toBe('-ERR [SYS/PERM] Message no longer exists\r\n');
  });

  test('DELE marks, RSET unmarks, QUIT removes in UPDATE only', () => {
    const peer = loggedIn();
    expect(peer.command('DELE 1')).toBe('+OK Message 1 deleted\r\n');
    expect(peer.command('DELE 1')).toBe('-ERR Message is deleted\r\n');
    expect(peer.command('RETR 1')).toBe('-ERR Message is deleted\r\n');
    expect(peer.command('STAT')).toBe(`+OK 1 ${second.sizeBytes}\r\n`);
    expect(peer.command('LIST')).toBe(
      `+OK 1 messages (${second.sizeBytes} octets)\r\n2 ${second.sizeBytes}\r\n.\r\n`,
    );
    expect(peer.command('RSET')).toMatch(/^\+OK 2 messages/);
    peer.command('DELE 2');
    expect(peer.deleted).toEqual([]);
    expect(peer.command('QUIT')).toBe('+OK Bye; 1 deleted\r\n');
    expect(peer.deleted).toEqual(['B']);
    expect(peer.session.state).toEqual({ phase: 'closed', reason: 'quit' });
  });

  test('a failed UPDATE says so with SYS/TEMP', () => {
    const peer = loggedIn();
    peer.session.receive(text.encode('DELE 1\r\nQUIT\r\n'));
    expect(peer.session.nextEvent()).toEqual({ type: 'update', deletedIds: ['A'] });
    peer.session.updateEnd({ isSuccess: false, deletedCount: 0 });
    expect(decoder.decode(peer.session.takeOutput() ?? new Uint8Array())).toBe(
      '+OK Message 1 deleted\r\n-ERR [SYS/TEMP] Some deleted messages were not removed\r\n',
    );
  });

  test('a connection that drops without QUIT deletes nothing (RFC 1939 §6)', () => {
    const peer = loggedIn();
    peer.command('DELE 1');
    peer.session.receiveEnd();
    expect(peer.session.nextEvent()).toEqual({ type: 'close', reason: 'peer-closed' });
    expect(peer.deleted).toEqual([]);
  });

  test('USER, PASS and STLS are out of place in TRANSACTION', () => {
    const peer = loggedIn();
    for (const line of ['USER u', 'PASS p', 'STLS', 'AUTH PLAIN']) {
      expect(peer.command(line)).toBe('-ERR Command not valid in this state\r\n');
    }
  });
});

describe('Pop3Session: bad input', () => {
  test('an overlong line gets one -ERR and the session goes on; memory stays bounded', () => {
    const peer = open({ maxLineBytes: 64 });
    let output = '';
    for (let index = 0; index < 100; index += 1) output += peer.send('x'.repeat(50));
    expect(peer.session.bufferedBytes).toBeLessThan(64);
    output += peer.send('\r\nNOOP\r\n');
    expect(output).toBe('-ERR Line too long (at most 64 octets)\r\n-ERR Command not valid in this state\r\n');
    expect(peer.command('CAPA')).toMatch(/^\+OK/);
  });

  test('too many bad commands close the session', () => {
    const peer = open({ maxBadCommands: 3 });
    peer.command('FOO');
    peer.command('BAR');
    expect(peer.command('BAZ')).toBe('-ERR Unknown command\r\n-ERR Too many bad commands; closing\r\n');
    expect(peer.session.state).toEqual({ phase: 'closed', reason: 'too-many-errors' });
  });

  test('pipelined commands are answered in order, split anywhere', () => {
    const script = 'USER u\r\nPASS p\r\nSTAT\r\nUIDL 2\r\nQUIT\r\n';
    const whole = open().send(script);
    const peer = open();
    let output = '';
    for (const character of script) output += peer.send(character);
    expect(output).toBe(whole);
    expect(whole).toMatch(/\+OK 2 B\r\n\+OK Bye\r\n$/);
  });

  test('arbitrary bytes never throw', () => {
    const peer = open();
    const noise = new Uint8Array(4096);
    for (let index = 0; index < noise.length; index += 1) noise[index] = (index * 7919) % 256;
    expect(() => peer.send(noise)).not.toThrow();
  });

  test('the idle timer closes with -ERR and no UPDATE', () => {
    const peer = loggedIn();
    peer.command('DELE 1');
    peer.session.timedOut();
    expect(peer.session.nextEvent()).toEqual({ type: 'close', reason: 'timeout' });
    expect(decoder.decode(peer.session.takeOutput() ?? new Uint8Array())).toBe(
      '-ERR Disconnected for inactivity\r\n',
    );
    expect(peer.deleted).toEqual([]);
  });

  test('answers arriving after a shutdown or timeout are ignored, not a crash', () => {
    const peer = open();
    peer.session.receive(text.encode('USER u\r\nPASS p\r\n'));
    expect(peer.session.nextEvent()?.type).toBe('login');
    peer.session.shutdown();
    expect(() => peer.session.acceptLogin(maildrop)).not.toThrow();
    expect(decoder.decode(peer.session.takeOutput() ?? new Uint8Array())).toBe(
      '+OK Send PASS\r\n-ERR [SYS/TEMP] Server shutting down\r\n',
    );
    const reading = loggedIn();
    reading.session.receive(text.encode('RETR 1\r\n'));
    expect(reading.session.nextEvent()?.type).toBe('message-request');
    reading.session.timedOut();
    expect(() => {
      reading.session.messageChunk(text.encode('late'));
      reading.session.messageEnd();
    }).not.toThrow();
    expect(decoder.decode(reading.session.takeOutput() ?? new Uint8Array())).toBe(
      '-ERR Disconnected for inactivity\r\n',
    );
  });
});
