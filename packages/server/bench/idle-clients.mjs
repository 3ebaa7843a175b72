// Opens N connections to host:port, waits for every greeting, then reports and stays idle until stdin closes.
import { connect } from 'node:net';

const [port, count] = process.argv.slice(2).map(Number);
const sockets = [];
let greeted = 0;
let failed = 0;
let opening = 0;
const batch = 200;

function open() {
  while (opening < batch && sockets.length < count) {
    opening += 1;
    const socket = connect({ port, host: '127.0.0.1' });
    sockets.push(socket);
    let seen = false;
    socket.on('data', () => {
      if (seen) return;
      seen = true;
      greeted += 1;
      opening -= 1;
      done();
      open();
    });
    socket.on('error', () => {
      if (seen) return;
      seen = true;
      failed += 1;
      opening -= 1;
      done();
      open();
    });
  }
}
function done() {
  if (greeted + failed === count) process.stdout.write(`${JSON.stringify({ greeted, failed })}\n`);
}
open();
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
