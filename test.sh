#!/usr/bin/env bash
# Runs Hearth's whole test suite: unit, store (SQLite, and PostgreSQL when one
# is reachable), handler and browser tests.
#
#   ./test.sh                 # everything this machine can run
#   ./test.sh -run TestStore  # extra arguments go to `go test`
#
# PostgreSQL: HEARTH_TEST_DATABASE_URL names it (default
# postgres://postgres@127.0.0.1:5432/test?sslmode=disable; "off" skips it).
# Chromium: found on PATH as chromium, chromium-browser or google-chrome, or
# named by HEARTH_CHROMIUM. Whatever is missing is skipped, and said so below.
set -uo pipefail
cd "$(dirname "$0")"

pg_url="${HEARTH_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
pg_note="PostgreSQL: running the store and handler suites on it too ($pg_url)"
if [ "$pg_url" = "off" ]; then
  pg_note="PostgreSQL: SKIPPED (HEARTH_TEST_DATABASE_URL=off)"
else
  hostport="${pg_url#*@}"; hostport="${hostport%%/*}"
  host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$host" ] && port=5432
  if ! (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
    pg_note="PostgreSQL: SKIPPED: nothing listens on $host:$port (set HEARTH_TEST_DATABASE_URL to run those suites on Postgres)"
  fi
fi

chromium="${HEARTH_CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}"
if [ -n "$chromium" ]; then
  chrome_note="Chromium: running browser tests with $chromium"
  export HEARTH_CHROMIUM="$chromium"
else
  chrome_note="Chromium: SKIPPED: no chromium on PATH (apt-get install -y chromium to run the browser tests)"
fi

banner() {
  echo "================================================================"
  echo "  $pg_note"
  echo "  $chrome_note"
  echo "================================================================"
}

banner
go test -count=1 "$@" ./...
status=$?
banner
exit $status
