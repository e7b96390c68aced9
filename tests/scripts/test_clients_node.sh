#!/usr/bin/env bash
# tests/scripts/test_clients_node.sh - tests/clients/node/test.js
# (node-postgres `pg`, `pg-cursor` and `pg-copy-streams`, the versions pinned
# in tests/clients/node/package.json and package-lock.json) against
# `datacave serve` started by tests/clients/lib.sh: SCRAM connect and a
# wrong password, parameters of every type through the extended protocol
# (also stored and read back, and inferred without casts), named prepared
# statements, fields and several statements in one query, a pool,
# transactions, errors (SQLSTATE, message, position, detail, fields, 25P02),
# NOTICEs, COPY in and out, and pg-cursor's batches (Execute with a row limit,
# PortalSuspended, a cursor closed early, an error mid-cursor).
# The packages are installed with `npm ci` from the npm registry into
# $DATACAVE_BUILD/tests/clients/node (never into the source tree), again only
# when package-lock.json changed.  CLIENTS_SERVER=postgres runs it against a
# throwaway PostgreSQL 15.  Run by tests/run.sh from the repository root;
# exits 1 on any failure (each failed case is printed).
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
source "$ROOT/tests/clients/lib.sh"

clients_need node npm
clients_need_built || exit 1
SRC="$ROOT/tests/clients/node"
clients_npm_install node

clients_init
clients_start plain || exit 1
TZ=UTC NODE_PATH="$NM/node_modules" timeout 300 node "$SRC/test.js" "$@"
rc=$?
[ $rc -eq 124 ] && echo "FAIL: test.js did not finish within 300 s"
clients_stop
[ -n "${CLIENTS_STOP_FAILED:-}" ] && { echo "FAIL: the server did not stop on SIGTERM"; rc=1; }
[ $rc -ne 0 ] && clients_show_log
exit $rc
