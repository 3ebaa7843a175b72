import { main } from './program.js';

// process.exitCode (not process.exit) lets stdout drain before Node ends, so piped JSON is never cut.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `smtp: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
