#!/usr/bin/env bash
# What the test run needs from outside PyPI, installed only when missing (idempotent):
# Debian's redis-server (durable streams), chromium (browser tests, driven by Playwright with
# executable_path; Playwright cannot download browsers here) and Node.js with npm (the
# TypeScript SDK as a client of the emulator), then the pinned npm packages of tests/ts.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    sudo=sudo
  else
    sudo=
  fi
  echo "+ apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The npm packages the TypeScript client tests run (pinned by tests/ts/package-lock.json).
if [ -f tests/ts/package-lock.json ] && [ ! -d tests/ts/node_modules ]; then
  echo "+ npm ci (tests/ts)"
  (cd tests/ts && npm ci --no-audit --no-fund --loglevel=error)
fi
