#!/bin/sh
# pnpm bench: build, raise the descriptor limit for 10,000 idle connections, run both servers.
set -e
cd "$(dirname "$0")/.."
(cd ../protocol && pnpm -s build >/dev/null)
pnpm -s build >/dev/null
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec node bench/run.mjs "$@"
