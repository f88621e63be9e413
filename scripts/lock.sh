#!/usr/bin/env bash
# Regenerate requirements/test.lock: every package the test run installs, at the newest
# release today, resolved in a fresh virtual environment. Commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(mktemp -d)/venv
python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip >/dev/null
"$venv/bin/pip" install -q -e '.[test]'
{
  echo "# The packages the test run uses, pinned: pip install -c requirements/test.lock -e '.[test]'"
  echo "# Regenerate with: bash scripts/lock.sh (Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())'), $(date -u +%Y-%m-%d))"
  "$venv/bin/pip" freeze --exclude-editable --all | grep -v -E '^(pip|setuptools|wheel)=='
} > requirements/test.lock
rm -rf "$(dirname "$venv")"
echo "wrote requirements/test.lock ($(grep -c '==' requirements/test.lock) packages)"
