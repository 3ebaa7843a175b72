#!/usr/bin/env node
// In-process A/B of two builds of @smtp/protocol: `node --expose-gc bench/ab.mjs OLD_DIST NEW_DIST
// [slices] [sliceMs] [case]` (each a dist directory holding index.js; `case`: run only the cases whose
// name contains it). Both builds run in this one process, in
// alternating slices timed by this process's CPU time, so the load from other processes on a shared
// machine neither counts nor falls on one build more than the other. Prints,
// per case, new/old for the best slices and the median of the paired slice ratios, and the spread.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [oldDist, newDist, slicesArgument = '30', sliceArgument = '150', caseFilter = ''] =
  process.argv.slice(2);
if (oldDist === undefined || newDist === undefined) {
  console.error('usage: node --expose-gc bench/ab.mjs OLD_DIST NEW_DIST [slices=30] [sliceMs=150] [case]');
  process.exit(2);
}
const slices = Number(slicesArgument);
const sliceMs = Number(sliceArgument);
const load = (dist) => import(pathToFileURL(resolve(dist, 'index.js')).href);
const builds = { old: await load(oldDist), new: await load(newDist) };

const encoder = new TextEncoder();
const transaction = encoder.encode(
  'EHLO client.example.org\r\nMAIL FROM:<alice@example.org> SIZE=1024 BODY=8BITMIME\r\n' +
    'RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE\r\nRCPT TO:<carol@example.net>\r\n' +
    `DATA\r\n${'Subject: bench\r\n\r\nhello\r\n'.repeat(40)}.\r\nQUIT\r\n`,
);

/** One case: a body per build, made from that build's exports; each call does `batch` operations. */
const cases = [
  commandCase('MAIL with SIZE+BODY', 'MAIL FROM:<alice@example.org> SIZE=1234 BODY=8BITMIME'),
  commandCase('MAIL plain', 'MAIL FROM:<alice@example.org>'),
  commandCase(
    'RCPT with NOTIFY+ORCPT',
    'RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.net',
  ),
  {
    name: 'ServerSession pipelined transaction',
    batch: 50,
    make: ({ ServerSession }) => {
      const serverOptions = { hostname: 'mx.example.net' };
      return () => {
        const session = new ServerSession(serverOptions);
        session.greet();
        session.receive(transaction);
        for (let event = session.nextEvent(); event !== null; event = session.nextEvent()) {
          if (session.pending) session.accept();
        }
        session.takeOutput();
      };
    },
  },
];

function commandCase(name, line) {
  const bytes = encoder.encode(line);
  return {
    name,
    batch: 2000,
    make:
      ({ parseCommand }) =>
      () => {
        if (!parseCommand(bytes).ok) throw new Error(`bench input must parse: ${line}`);
      },
  };
}

/** This process's CPU time in ms: time other processes take from us on a loaded machine does not count. */
function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Operations per CPU second of one slice of `sliceMs` of CPU time. */
function slice(body, batch) {
  globalThis.gc?.();
  let operations = 0;
  const start = cpuMs();
  const deadline = start + sliceMs;
  let now = start;
  while (now < deadline) {
    for (let index = 0; index < batch; index += 1) body();
    operations += batch;
    now = cpuMs();
  }
  return operations / ((now - start) / 1000);
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))];

console.log(
  `A/B: old=${oldDist} new=${newDist}, ${slices} slices of ${sliceMs} ms each, node ${process.version}`,
);
console.log('ratio = new/old operations per second (above 1: new is faster)\n');
console.log('| case | best new/old | median paired new/old | paired p10–p90 | old slice spread |');
console.log('|---|---:|---:|---:|---:|');
for (const { name, batch, make } of cases.filter((entry) => entry.name.includes(caseFilter))) {
  const bodies = { old: make(builds.old), new: make(builds.new) };
  // Warm both up before any slice counts.
  for (let round = 0; round < 3; round += 1) for (const build of ['old', 'new']) slice(bodies[build], batch);
  const rates = { old: [], new: [] };
  const paired = [];
  for (let index = 0; index < slices; index += 1) {
    // Alternate which build goes first, so neither always follows the other's garbage.
    const order = index % 2 === 0 ? ['old', 'new'] : ['new', 'old'];
    for (const build of order) rates[build].push(slice(bodies[build], batch));
    paired.push(rates.new[index] / rates.old[index]);
  }
  const best = Math.max(...rates.new) / Math.max(...rates.old);
  const spread = Math.max(...rates.old) / Math.min(...rates.old);
  console.log(
    `| ${name} | ${best.toFixed(3)} | ${median(paired).toFixed(3)} | ${quantile(paired, 0.1).toFixed(2)}–${quantile(paired, 0.9).toFixed(2)} | ${spread.toFixed(2)}× |`,
  );
}
