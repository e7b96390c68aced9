#!/usr/bin/env bash
# tests/scripts/test_clients_psql.sh - psql (PostgreSQL 15's client) against
# `datacave serve` (tests/clients/lib.sh: pgwire, sql, memory storage, a
# SCRAM-SHA-256 user): every tests/clients/psql/NAME.sql runs as
# `psql -X -a < NAME.sql` and its output (queries echoed, results,
# errors) must equal NAME.out, which is PostgreSQL 15's output:
#   queries.sql   results, tags, NULLs, errors and the session after them,
#                 transaction blocks, savepoints, \x, \pset, \gset
#   describe.sql  \dt, \d, \d NAME (table, indexes, constraints, view), \dn
#   copy.sql      \copy from a file, from stdin, to stdout, to a file;
#                 COPY FROM STDIN / TO STDOUT in text and CSV; a bad row
# and, checked field by field (the locale columns are the server's own):
#   \l lists the current database with its owner and encoding UTF8;
#   SCRAM: a wrong password is refused (28P01's message), the right one
#   connects.
# CLIENTS_SERVER=postgres runs the same against a throwaway PostgreSQL 15;
# with CLIENTS_ACCEPT=1 as well it rewrites the .out files from it.
# Run by tests/run.sh from the repository root; exits 1 on any failure.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
source "$ROOT/tests/clients/lib.sh"

failures=0
checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

clients_init
clients_need psql
clients_start plain || exit 1

work="$CT/psql"
mkdir -p "$work"
cp "$ROOT"/tests/clients/psql/* "$work/"
for sql in "$ROOT"/tests/clients/psql/*.sql; do
  name="$(basename "$sql" .sql)"
  checks=$((checks + 1))
  exp="$ROOT/tests/clients/psql/$name.out"
  (cd "$work" && timeout 120 psql -X -a <"$name.sql" >"$work/$name.actual" 2>&1)
  # CLIENTS_SERVER=postgres CLIENTS_ACCEPT=1 regenerates the expected
  # outputs from PostgreSQL (never from Datacave).
  if [ -n "${CLIENTS_ACCEPT:-}" ] && [ "$SERVER_KIND" = postgres ]; then
    cp "$work/$name.actual" "$exp"
  fi
  if [ ! -f "$exp" ]; then
    fail "$name.sql: no expected output $exp"
  elif diff -u "$exp" "$work/$name.actual" >"$work/$name.diff"; then
    ok "$name.sql: output equals PostgreSQL's"
  else
    fail "$name.sql: output differs from PostgreSQL's (- expected, + $SERVER_KIND):"
    sed 's/^/  /' "$work/$name.diff" | head -n 150
  fi
done

# \copy ... to 'file' in copy.sql wrote this file on the client.
checks=$((checks + 1))
printf '1\talpha\t1.25\t2024-01-02\n2\tbeta, b\t-3\t2024-02-29\n3\t\\N\t10000000000\t\\N\n10\tten\t\\N\t\\N\n11\t\\N\t\\N\t\\N\n12\ttab\\there\t\\N\t\\N\n20\tquoted, with comma\t1.5\t\\N\n21\t\\N\t2.5\t\\N\n' >"$work/measures-want.txt"
if [ -f "$work/measures-out.txt" ] && diff -u "$work/measures-want.txt" "$work/measures-out.txt" >"$work/copyfile.diff"; then
  ok "\\copy to a file wrote every row in COPY's text format"
else
  fail "\\copy to a file:"; sed 's/^/  /' "$work/copyfile.diff" 2>/dev/null | head -n 30
fi

# \l: the current database, owner and encoding.
checks=$((checks + 1))
timeout 60 psql -X -A -F '|' -c '\l' >"$work/l.out" 2>&1
row="$(grep "^$CLIENT_DB|" "$work/l.out")"
if head -n 1 "$work/l.out" | grep -qx 'List of databases' &&
   grep -qx 'Name|Owner|Encoding|Collate|Ctype|ICU Locale|Locale Provider|Access privileges' "$work/l.out" &&
   [ "$(printf '%s' "$row" | cut -d'|' -f2,3)" = "$CLIENT_USER|UTF8" ]; then
  ok "\\l lists $CLIENT_DB, owner $CLIENT_USER, UTF8"
else
  fail "\\l: expected the header and a row '$CLIENT_DB|$CLIENT_USER|UTF8|...':"; sed 's/^/  | /' "$work/l.out" | head -n 20
fi
checks=$((checks + 1))
timeout 60 psql -X -A -F '|' -c "\\l $CLIENT_DB" >"$work/l1.out" 2>&1
if [ "$(grep -c "^$CLIENT_DB|$CLIENT_USER|UTF8|" "$work/l1.out")" = 1 ] && grep -qx '(1 row)' "$work/l1.out"; then
  ok "\\l NAME lists exactly that database"
else
  fail "\\l $CLIENT_DB:"; sed 's/^/  | /' "$work/l1.out" | head -n 20
fi

# SCRAM: the wrong password is refused, the right one gets in.
checks=$((checks + 1))
out="$(PGPASSWORD=wrong timeout 60 psql -X -At -c 'select 1' 2>&1)"
rc=$?
if [ $rc -eq 2 ] && printf '%s' "$out" | grep -qF "password authentication failed for user \"$CLIENT_USER\""; then
  ok "a wrong password is refused"
else
  fail "wrong password: exit $rc, output: $out"
fi
checks=$((checks + 1))
out="$(PGPASSWORD=wrong timeout 60 psql -X -At -U nosuchuser -c 'select 1' 2>&1)"
rc=$?
if [ $rc -eq 2 ] && printf '%s' "$out" | grep -qF 'password authentication failed for user "nosuchuser"'; then
  ok "an unknown user gets the same answer as a wrong password"
else
  fail "unknown user: exit $rc, output: $out"
fi
checks=$((checks + 1))
out="$(timeout 60 psql -X -At -c 'select 6 * 7' 2>&1)"
[ "$out" = 42 ] && ok "the right password connects" || fail "right password: $out"

clients_stop
[ -n "${CLIENTS_STOP_FAILED:-}" ] && fail "the server did not stop on SIGTERM"
echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
