#!/usr/bin/env bash
# tests/scripts/test_clients_postgresjs.sh - tests/clients/postgresjs/test.js
# (postgres.js, the npm package `postgres` at the version pinned in
# tests/clients/postgresjs/package.json and package-lock.json) against
# `datacave serve` started by tests/clients/lib.sh: SCRAM connect (checked
# on the wire) and a wrong password (28P01), tagged-template queries with
# parameters of many types (int2/4/8, BigInt, numeric, float4/8, text,
# varchar, bool, date, timestamp, timestamptz, bytea, NULL) stored and read
# back, the same query run many times on one named prepared statement
# (Parse once, Bind each time, counted on the wire), prepare: false
# (unnamed statements), parameter types the server infers, many rows, the
# dynamic helpers, sql.begin (commit, rollback on a throw and on an SQL
# error, savepoints), errors with SQLSTATE and fields, and sql.unsafe.
# The package is installed with `npm ci` from the npm registry into
# $DATACAVE_BUILD/tests/clients/postgresjs (never into the source tree),
# again only when package-lock.json changed.  CLIENTS_SERVER=postgres runs
# it against a throwaway PostgreSQL 15.  Run by tests/run.sh from the
# repository root; exits 1 on any failure (each failed case is printed).
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
source "$ROOT/tests/clients/lib.sh"

clients_need node npm
clients_need_built || exit 1
SRC="$ROOT/tests/clients/postgresjs"
clients_npm_install postgresjs

clients_init
clients_start plain || exit 1
TZ=UTC NODE_PATH="$NM/node_modules" timeout 300 node "$SRC/test.js" "$@"
rc=$?
[ $rc -eq 124 ] && echo "FAIL: test.js did not finish within 300 s"
clients_stop
[ -n "${CLIENTS_STOP_FAILED:-}" ] && { echo "FAIL: the server did not stop on SIGTERM"; rc=1; }
[ $rc -ne 0 ] && clients_show_log
exit $rc
