#!/bin/sh
# Install what tests/test_emulator_ts.py runs: Node.js (Debian's `nodejs` package, only when
# `node` is missing) and the official TypeScript SDK pinned in tests/ts/package-lock.json.
# Idempotent: does nothing when both are already there. Run it before pytest.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
fi
if [ ! -f "$root/tests/ts/node_modules/@anthropic-ai/sdk/package.json" ]; then
    (cd "$root/tests/ts" && npm ci --no-audit --no-fund --loglevel=error)
fi
