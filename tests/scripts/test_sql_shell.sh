#!/usr/bin/env bash
# tests/scripts/test_sql_shell.sh - `datacave sql`, the in-process shell,
# through the real binary and the sql and lsm modules in $DATACAVE_BUILD:
#   usage errors (exit 2) and --help;
#   -c with several statements: tags and psql's aligned output, compared
#     with the exact expected text; repeated -c in order; exit status of the
#     last -c; -v ON_ERROR_STOP=1;
#   errors on stderr ("ERROR:  ...", DETAIL, NOTICE) and exit 1;
#   -f: continues after an error (exit 0), stops with exit 3 under
#     ON_ERROR_STOP; statements read from standard input, split at ';'
#     outside quotes, dollar quotes and comments;
#   the data survives a second invocation (a restart of the engine);
#   --data-dir names another store;
#   the refusal while a server holds the data directory: `datacave serve`
#     when the wire protocol module exists and starts, otherwise a second
#     `datacave sql` kept open on a fifo (the same lock the server takes);
#   when a PostgreSQL 15 is reachable (PGCONN, or the local cluster as the
#     postgres user), the shell's output of simple queries equals psql's.
# Run by tests/run.sh from the repository root.  Prints every failed check
# and exits 1 when there was one.
set -u

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
B="${DATACAVE_BUILD:-$ROOT/build}"
DC="$B/bin/datacave"

tmp="$(mktemp -d)"
# psql as the postgres user, from a directory it may enter (a checkout
# under a private directory is not one).
su_pg() { (cd / && su postgres -c "$@"); }
holder_pid=""
serve_pid=""
cleanup() {
  exec 3>&- 2>/dev/null
  for p in $holder_pid $serve_pid; do
    if kill -0 "$p" 2>/dev/null; then
      kill -KILL "$p" 2>/dev/null
      wait "$p" 2>/dev/null
    fi
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
checks=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
show() {
  echo "  --- stdout:"; sed 's/^/  | /' "$tmp/out" | head -n 40
  echo "  --- stderr:"; sed 's/^/  | /' "$tmp/err" | head -n 20
}
rc=0
run() {
  timeout 60 "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
}
expect_rc() {
  checks=$((checks + 1))
  if [ "$rc" -ne "$1" ]; then
    fail "$2: exit status $rc, expected $1"
    show
    return 1
  fi
  return 0
}
has() {
  checks=$((checks + 1))
  if ! grep -qF -- "$2" "$1"; then
    fail "$3: expected '$2' in $(basename "$1")"
    show
    return 1
  fi
  return 0
}
lacks() {
  checks=$((checks + 1))
  if grep -qF -- "$2" "$1"; then
    fail "$3: did not expect '$2' in $(basename "$1")"
    show
    return 1
  fi
  return 0
}
# same_file FILE EXPECTED-TEXT WHAT: the file's content is exactly the text
same_file() {
  checks=$((checks + 1))
  if ! diff -u <(printf '%s' "$2") "$1" >"$tmp/diff"; then
    fail "$3: output differs from the expected text"
    sed 's/^/  /' "$tmp/diff" | head -n 40
    return 1
  fi
  return 0
}

[ -x "$DC" ] || { echo "FAIL: no datacave binary at $DC"; exit 1; }

# ---- usage (needs no module) -------------------------------------------------

run "$DC" sql --help
expect_rc 0 "sql --help" && has "$tmp/out" "usage: datacave sql --config FILE" "sql --help"
run "$DC" --help
has "$tmp/out" "sql --config FILE" "datacave --help lists sql"
run "$DC" sql -c 'select 1'
expect_rc 2 "sql without --config" && has "$tmp/err" "--config FILE is required" "sql without --config"
run "$DC" sql --config x.toml --bogus
expect_rc 2 "sql with an unknown option" && has "$tmp/err" "unknown option --bogus" "unknown option"
run "$DC" sql --config x.toml -c
expect_rc 2 "-c without a value"

if [ ! -f "$B/modules/sql.so" ]; then
  echo "FAIL: no sql module at $B/modules/sql.so: the shell cannot run SQL ($checks usage checks ran)"
  exit 1
fi

cat >"$tmp/dc.toml" <<EOF
[server]
module_dir = "$B/modules"
[modules]
protocol = ""
sql = "sql"
storage = "lsm"
auth = ""
encryption = "none"
metrics = ""
[storage]
data_dir = "$tmp/data"
EOF
CFG="$tmp/dc.toml"
SQL=("$DC" sql --config "$CFG")

# ---- -c ------------------------------------------------------------------------

run "${SQL[@]}" -c "create table t(a int, b text); insert into t values (1, 'x'), (22, null); select a, b, a * 1.5 as c from t order by a"
expect_rc 0 "-c with several statements" &&
  same_file "$tmp/out" "CREATE TABLE
INSERT 0 2
 a  | b |  c   
----+---+------
  1 | x |  1.5
 22 |   | 33.0
(2 rows)

" "-c: tags and aligned output"

run "${SQL[@]}" -c "select 'it''s; fine' as s, \$\$a;b\$\$ as d" -c "select E'l1\nl2' as m, true as t, 7 as n"
expect_rc 0 "repeated -c" &&
  same_file "$tmp/out" "     s      |  d  
------------+-----
 it's; fine | a;b
(1 row)

 m  | t | n 
----+---+---
 l1+| t | 7
 l2 |   | 
(1 row)

" "repeated -c in order; quotes; multi-line values"

run "${SQL[@]}" -c "select 1/0"
expect_rc 1 "-c with an error" && same_file "$tmp/err" "ERROR:  division by zero
" "-c error text on stderr"
same_file "$tmp/out" "" "-c error prints nothing on stdout"

run "${SQL[@]}" -c "select 1 as a; select 1/0; select 3 as c"
expect_rc 1 "-c stops at the failing statement" && has "$tmp/out" " a " "-c ran the first statement" &&
  lacks "$tmp/out" " c " "-c did not run past the error"

# psql: the exit status is the last action's.
run "${SQL[@]}" -c "select 1/0" -c "select 4 as four"
expect_rc 0 "an error in an earlier -c" && has "$tmp/out" "four" "the next -c ran"
run "${SQL[@]}" -v ON_ERROR_STOP=1 -c "select 1/0" -c "select 4 as four"
expect_rc 1 "ON_ERROR_STOP with -c" && lacks "$tmp/out" "four" "ON_ERROR_STOP stops -c"

run "${SQL[@]}" -c "create table u(k int primary key)" -c "insert into u values (1)" -c "insert into u values (1)"
expect_rc 1 "unique violation" &&
  has "$tmp/err" 'ERROR:  duplicate key value violates unique constraint "u_pkey"' "unique violation message" &&
  has "$tmp/err" "DETAIL:  Key (k)=(1) already exists." "DETAIL line"

run "${SQL[@]}" -c "create table if not exists t(a int)"
expect_rc 0 "create table if not exists" && same_file "$tmp/out" "CREATE TABLE
" "tag of a skipped create" &&
  has "$tmp/err" 'NOTICE:  relation "t" already exists, skipping' "NOTICE line"

run "${SQL[@]}" -c "selec 1"
expect_rc 1 "syntax error" && has "$tmp/err" 'ERROR:  syntax error at or near "selec"' "syntax error message"

run "${SQL[@]}" -c "insert into t values (3, 'y') returning a"
expect_rc 0 "insert returning" && same_file "$tmp/out" " a 
---
 3
(1 row)

INSERT 0 1
" "RETURNING rows, then the tag"

# ---- -f and standard input ----------------------------------------------------

cat >"$tmp/script.sql" <<'EOF'
select 10 as ten;
select 1/0;
-- a comment; with a semicolon
select 'a;b' as s, /* c; */ 20 as
  twenty;
EOF
run "${SQL[@]}" -f "$tmp/script.sql"
expect_rc 0 "-f goes on after an error" &&
  same_file "$tmp/out" " ten 
-----
  10
(1 row)

  s  | twenty 
-----+--------
 a;b |     20
(1 row)

" "-f output" && has "$tmp/err" "script.sql:2: ERROR:  division by zero" "-f error names the file and line"

run "${SQL[@]}" -v ON_ERROR_STOP=1 -f "$tmp/script.sql"
expect_rc 3 "-f with ON_ERROR_STOP" && lacks "$tmp/out" "twenty" "ON_ERROR_STOP stops the script"

run "${SQL[@]}" -f "$tmp/missing.sql"
expect_rc 1 "-f of a missing file" && has "$tmp/err" "missing.sql" "missing file named"

printf 'select 1 as one;\nselect\n  2 as two; select 3 as three\n' >"$tmp/stdin.sql"
timeout 60 "${SQL[@]}" <"$tmp/stdin.sql" >"$tmp/out" 2>"$tmp/err"
rc=$?
expect_rc 0 "statements from standard input" &&
  same_file "$tmp/out" " one 
-----
   1
(1 row)

 two 
-----
   2
(1 row)

 three 
-------
     3
(1 row)

" "standard input: split at ';', the last statement without one runs at the end"

printf 'select 5 as five;\n\\q\nselect 6 as six;\n' | timeout 60 "${SQL[@]}" >"$tmp/out" 2>"$tmp/err"
rc=$?
expect_rc 0 "\\q" && has "$tmp/out" "five" "before \\q" && lacks "$tmp/out" "six" "\\q quits"

# A terminal (script(1) gives the shell a pseudo-terminal): prompts, with
# the continuation state and the transaction status as psql shows them.
if command -v script >/dev/null; then
  printf "select 'a\n;\n' as x, (1\n);\nbegin;\nselect 1/0;\nrollback;\n\\\\?\n\\\\q\n" >"$tmp/tty.in"
  timeout 60 script -qec "$(printf '%q ' "${SQL[@]}")" /dev/null <"$tmp/tty.in" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  tr -d '\r' <"$tmp/out" >"$tmp/tty.out"; cp "$tmp/tty.out" "$tmp/out"
  expect_rc 0 "interactive session" &&
    has "$tmp/tty.out" "default=> default'> default'> default(>  x | ?column? " "prompts: start, in a string, in parentheses" &&
    has "$tmp/tty.out" "default=> BEGIN" "prompt before BEGIN" &&
    has "$tmp/tty.out" "default=*> ERROR:  division by zero" "prompt in a transaction block" &&
    has "$tmp/tty.out" "default=!> ROLLBACK" "prompt in a failed transaction block" &&
    has "$tmp/tty.out" "  \\?                     this help" "\\? help" && lacks "$tmp/tty.out" "invalid command" "meta-commands known"
else
  echo "note: no script(1): the interactive prompt checks did not run"
fi

# ---- restart, --data-dir ---------------------------------------------------------

run "${SQL[@]}" -c "select a, b from t order by a"
expect_rc 0 "second invocation" && same_file "$tmp/out" " a  | b 
----+---
  1 | x
  3 | y
 22 | 
(3 rows)

" "the data survives a restart"

run "${SQL[@]}" --data-dir "$tmp/other" -c "select * from t"
expect_rc 1 "--data-dir: another store" && has "$tmp/err" 'relation "t" does not exist' "--data-dir store is empty"
run "${SQL[@]}" --data-dir "$tmp/other" -c "create table o(x int)"
expect_rc 0 "--data-dir: create"
checks=$((checks + 1))
[ -d "$tmp/other" ] || fail "--data-dir: $tmp/other not created"
run "${SQL[@]}" -c "select * from o"
expect_rc 1 "--data-dir did not touch the configured store"

# ---- the data directory held by a server --------------------------------------------

lock_msg="datacave: the data directory $tmp/data is in use by a running server; stop it or connect with psql"
held_by=""
if [ -f "$B/modules/pgwire.so" ]; then
  port=$((20000 + RANDOM % 20000))
  sed -e 's/^protocol = ""/protocol = "pgwire"/' "$CFG" >"$tmp/serve.toml"
  sed -i "s|^\[server\]|[server]\nlisten_addr = \"127.0.0.1:$port\"|" "$tmp/serve.toml"
  "$DC" serve --config "$tmp/serve.toml" >"$tmp/serve.out" 2>&1 &
  serve_pid=$!
  for _ in $(seq 100); do
    grep -q "datacave ready" "$tmp/serve.out" && break
    kill -0 "$serve_pid" 2>/dev/null || break
    sleep 0.1
  done
  if grep -q "datacave ready" "$tmp/serve.out"; then
    held_by="datacave serve"
  else
    echo "note: datacave serve did not start; holding the data directory with a second datacave sql:"
    sed 's/^/  | /' "$tmp/serve.out" | head -n 5
    kill -KILL "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null; serve_pid=""
  fi
fi
if [ -z "$held_by" ]; then
  # A shell kept open on a fifo holds the store exactly as the server does
  # (the sql module's init opens it and takes its LOCK).
  mkfifo "$tmp/fifo"
  "${SQL[@]}" <"$tmp/fifo" >"$tmp/holder.out" 2>&1 &
  holder_pid=$!
  exec 3>"$tmp/fifo"
  echo "select 'holding' as state;" >&3
  for _ in $(seq 300); do
    grep -q "holding" "$tmp/holder.out" && break
    kill -0 "$holder_pid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q "holding" "$tmp/holder.out" && held_by="a second datacave sql"
fi
checks=$((checks + 1))
if [ -z "$held_by" ]; then
  fail "could not hold the data directory"; sed 's/^/  | /' "$tmp/holder.out" | head
else
  echo "note: the data directory is held by $held_by"
  run "${SQL[@]}" -c "select 1"
  expect_rc 1 "refused while held by $held_by" &&
    same_file "$tmp/err" "$lock_msg
" "the in-use message"
  if [ -n "$serve_pid" ]; then
    kill -TERM "$serve_pid"; wait "$serve_pid"; serve_pid=""
  else
    echo '\q' >&3; exec 3>&-
    wait "$holder_pid"; holder_pid=""
  fi
  run "${SQL[@]}" -c "select count(*) as n from t"
  expect_rc 0 "usable again once released" && has "$tmp/out" " 3" "data still there"
fi

# ---- the same output as psql ---------------------------------------------------------

PSQL=()
if [ -n "${PGCONN:-}" ] && command -v psql >/dev/null; then
  PSQL=(psql -X -d "$PGCONN")
elif [ "$(id -u)" = 0 ] && command -v psql >/dev/null &&
     su_pg "psql -X -h /var/run/postgresql -c 'select 1'" >/dev/null 2>&1; then
  PSQL=(su postgres -c)   # run through su_pg below
fi
cat >"$tmp/cmp.sql" <<'EOF'
select 1 as a, 2.5 as b, null::text as c, 'hello'::text as longname;
select 'x' as c, 1 as longnum_column;
select 12345 as a, 'ab' as bb where false;
select 1 as a union all select 22 union all select null;
values (1, 'a'), (2, 'bbbbbb');
select E'line1\nline22' as m, 5 as n, E'a\nb\nc' as z;
select 'héllo' as "ü", -3 as neg;
select 1 as x, 'y' as y from (values (1), (2), (3)) v(k) order by k;
select 'tab' || chr(9) || 'x' as tab, 'cr' || chr(13) || 'x' as cr, chr(1) as ctl, true as t;
select -1.5::float8 as f, 100::int8 as big, 3::int2 as small, '' as empty;
select;
EOF
chmod 644 "$tmp/cmp.sql"; chmod 755 "$tmp"
if [ ${#PSQL[@]} -eq 0 ]; then
  echo "note: no PostgreSQL reachable (set PGCONN): the comparison with psql did not run"
else
  if [ "${PSQL[0]}" = su ]; then
    su_pg "psql -X -h /var/run/postgresql -f $tmp/cmp.sql" >"$tmp/psql.out" 2>&1
  else
    "${PSQL[@]}" -f "$tmp/cmp.sql" >"$tmp/psql.out" 2>&1
  fi
  run "${SQL[@]}" -f "$tmp/cmp.sql"
  checks=$((checks + 1))
  if ! diff -u "$tmp/psql.out" "$tmp/out" >"$tmp/diff"; then
    fail "the shell's output differs from psql's (- psql, + datacave sql)"
    sed 's/^/  /' "$tmp/diff" | head -n 60
  fi
  # Errors with a position: psql's "LINE n:" with the caret, cut when long.
  long="select 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' || nosuchcol from (select 1) x"
  for q in "selec 1" "select * from nosuch" "select 1 +" "$long" "select 1,
  nosuchcol"; do
    printf '%s' "$q" >"$tmp/q.sql"; chmod 644 "$tmp/q.sql"
    if [ "${PSQL[0]}" = su ]; then
      su_pg "psql -X -h /var/run/postgresql -c \"\$(cat $tmp/q.sql)\"" >/dev/null 2>"$tmp/psql.err"
    else
      "${PSQL[@]}" -c "$q" >/dev/null 2>"$tmp/psql.err"
    fi
    run "${SQL[@]}" -c "$q"
    checks=$((checks + 1))
    if ! diff -u "$tmp/psql.err" "$tmp/err" >"$tmp/diff"; then
      fail "error text differs from psql's for: $q"
      sed 's/^/  /' "$tmp/diff" | head -n 20
    fi
  done
fi

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
