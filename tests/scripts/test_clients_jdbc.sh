#!/usr/bin/env bash
# tests/scripts/test_clients_jdbc.sh - tests/clients/jdbc/JdbcTest.java
# (pgJDBC from Debian's libpostgresql-jdbc-java, /usr/share/java/postgresql.jar)
# against `datacave serve` started by tests/clients/lib.sh: SCRAM connect and
# a wrong password (28P01), a table of many types (int2/4/8, numeric,
# float4/8, text, varchar, bool, date, timestamp, timestamptz, bytea, NULLs)
# written with PreparedStatement setters and read back with every getter
# that fits, through a Statement (text) and PreparedStatements executed past
# prepareThreshold (5, and 1 in another connection) so that the driver uses
# named server-side statements, binary parameters and binary results; a
# fetch size (portal with a row limit), batches (also one failing with
# 23505), transactions with setAutoCommit(false) (commit, rollback,
# savepoint, 25P02), SQLSTATEs of errors, ResultSetMetaData and
# DatabaseMetaData.getTables.
# The class is compiled with javac into $DATACAVE_BUILD/tests/clients/jdbc
# (never into the source tree).  CLIENTS_SERVER=postgres runs it against a
# throwaway PostgreSQL 15.  Run by tests/run.sh from the repository root;
# exits 1 on any failure (each failed case is printed).  An argument runs
# only the cases whose name contains it.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
source "$ROOT/tests/clients/lib.sh"

JAR=/usr/share/java/postgresql.jar
clients_need java javac
[ -f "$JAR" ] || { echo "FAIL: no $JAR (Debian package libpostgresql-jdbc-java; scripts/deps.sh installs it)"; exit 1; }
clients_need_built || exit 1
OUT="$B/tests/clients/jdbc"
rm -rf "$OUT"
mkdir -p "$OUT"
if ! javac -encoding UTF-8 -Xlint:all -Werror -cp "$JAR" -d "$OUT" "$ROOT/tests/clients/jdbc/JdbcTest.java" >"$OUT/javac.log" 2>&1; then
  echo "FAIL: javac tests/clients/jdbc/JdbcTest.java:"
  sed 's/^/  | /' "$OUT/javac.log"
  exit 1
fi

clients_init
clients_start plain || exit 1
timeout 300 java -Duser.timezone=UTC -Dfile.encoding=UTF-8 -cp "$OUT:$JAR" JdbcTest "$@"
rc=$?
[ $rc -eq 124 ] && echo "FAIL: JdbcTest did not finish within 300 s"
clients_stop
[ -n "${CLIENTS_STOP_FAILED:-}" ] && { echo "FAIL: the server did not stop on SIGTERM"; rc=1; }
[ $rc -ne 0 ] && clients_show_log
exit $rc
