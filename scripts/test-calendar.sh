#!/usr/bin/env bash
# npm run test:calendar — the unit tests again with the clock moved 400 days ahead and 400 days
# back (libfaketime), so a test that compares a fixed instant with the real clock (OpenSSL's
# certificate checks, TTLs, Date.now()) fails today instead of on some later day.
# Needs the Debian package `faketime` (.ci/run installs it). DONT_FAKE_MONOTONIC keeps Node's
# timers on the real monotonic clock, so only the calendar moves.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v faketime >/dev/null; then
  echo "test:calendar needs libfaketime: apt-get install faketime" >&2
  exit 2
fi
export DONT_FAKE_MONOTONIC=1
offsets=("$@")
[ ${#offsets[@]} -gt 0 ] || offsets=(+400d -400d)
for o in "${offsets[@]}"; do
  # Prove the clock really moved for Node before trusting a green run under it.
  shifted=$(faketime -f "$o" node -e 'process.stdout.write(String(Math.round((Date.now() - Number(process.argv[1]) * 1000) / 86400000)))' "$(date +%s)")
  expected=${o%d}
  if [ "$shifted" != "$((expected))" ]; then
    echo "faketime $o moved Node's clock by $shifted days, not $((expected)): refusing to trust this run" >&2
    exit 2
  fi
  echo "== unit tests with the clock at $(faketime -f "$o" date -u +%Y-%m-%dT%H:%MZ) ($o)"
  faketime -f "$o" npx jest --ci
done
