#!/usr/bin/env bash
# tests/scripts/test_clients_psycopg2.sh - tests/clients/psycopg2_test.py
# (Debian's python3-psycopg2, run by /usr/bin/python3) against `datacave
# serve` started by tests/clients/lib.sh: SCRAM connect and a wrong
# password, a read-only user (42501 on writes), parameters of every type
# (also stored and read back), rowcounts, a named (server-side) cursor,
# transactions (commit, rollback, savepoints, isolation, read only), errors
# (SQLSTATE, message, detail, position, constraint/table/column fields,
# 25P02), NOTICEs, COPY in and out (text and CSV, a bad row, 20000 rows).
# CLIENTS_SERVER=postgres runs it against a throwaway PostgreSQL 15.  Run by tests/run.sh from the repository root; exits 1 on
# any failure (each failed case is printed).
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
source "$ROOT/tests/clients/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || { echo "FAIL: no $PY (Debian's python3)"; exit 1; }
"$PY" -c 'import psycopg2' 2>/dev/null ||
  { echo "FAIL: $PY cannot import psycopg2 (Debian package python3-psycopg2; scripts/deps.sh installs it)"; exit 1; }

clients_init
clients_start plain || exit 1
timeout 300 "$PY" "$ROOT/tests/clients/psycopg2_test.py" "$@"
rc=$?
[ $rc -eq 124 ] && echo "FAIL: psycopg2_test.py did not finish within 300 s"
clients_stop
[ -n "${CLIENTS_STOP_FAILED:-}" ] && { echo "FAIL: the server did not stop on SIGTERM"; rc=1; }
[ $rc -ne 0 ] && clients_show_log
exit $rc
