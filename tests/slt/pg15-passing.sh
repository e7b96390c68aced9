#!/usr/bin/env bash
# tests/slt/pg15-passing.sh - regenerate tests/slt/pg15/<name>.pass: the
# line numbers of the records of each sqllogictest evidence file (in1, in2,
# slt_lang_*) that PostgreSQL 15 passes, measured with our runner's libpq
# backend.  tests/scripts/test_sql_slt.sh runs the engine on exactly these.
#
#   tests/slt/pg15-passing.sh [CONNINFO]
#
# CONNINFO (or $PGCONN) names a PostgreSQL 15 server whose user may create
# databases; by default the local cluster over its Unix socket, as the
# postgres user (through su when run as root).  The corpus is read from
# $DATACAVE_SHARED/slt (default ../shared/slt).  Builds the runner first.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
B="${DATACAVE_BUILD:-$ROOT/build}"
SLT="${DATACAVE_SHARED:-$ROOT/../shared}/slt"
CONN="${1:-${PGCONN:-host=/var/run/postgresql dbname=postgres}}"
OUT="$ROOT/tests/slt/pg15"

make --no-print-directory BUILD="$B" "$B/tests/slt/slt_runner" >/dev/null
ver=$(psql -X -At -d "$CONN" -c 'show server_version_num' 2>/dev/null ||
      su postgres -c "psql -X -At -d '$CONN' -c 'show server_version_num'")
case "$ver" in
  15*) ;;
  *) echo "pg15-passing.sh: the server is not PostgreSQL 15 ($ver)" >&2; exit 1 ;;
esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
chmod 777 "$tmp"
mkdir -p "$OUT"
for f in "$SLT"/in1.test "$SLT"/in2.test "$SLT"/slt_lang_*.test; do
  name="$(basename "$f" .test)"
  cmd=("$B/tests/slt/slt_runner" --show 0 --pg "$CONN" --list-passing "$tmp/$name.pass" "$f")
  # Failures are expected here (records only SQLite passes): the status is
  # not an error, a missing list is.
  if [ "$(id -u)" = 0 ] && [ -z "${PGCONN:-}" ] && [ -z "${1:-}" ]; then
    su postgres -c "$(printf '%q ' "${cmd[@]}")" || true
  else
    "${cmd[@]}" || true
  fi
  [ -s "$tmp/$name.pass" ] || { echo "pg15-passing.sh: no list for $f" >&2; exit 1; }
  cp "$tmp/$name.pass" "$OUT/$name.pass"
done
echo "pg15-passing.sh: lists written to $OUT"
