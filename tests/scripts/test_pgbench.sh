#!/usr/bin/env bash
# tests/scripts/test_pgbench.sh - PostgreSQL 15's pgbench, unmodified,
# against `datacave serve` (tests/clients/lib.sh: pgwire, sql, lsm storage,
# a SCRAM-SHA-256 user).
#
# For each way of initializing (`pgbench -i -I dtgvp`: client-side COPY;
# `-I dtGvp`: server-side generate_series) it checks the fresh tables (row
# counts 100000*s, 10*s, s and 0, every balance sum 0, aid 1..100000*s,
# primary keys in place), then runs `pgbench -c 8 -j 2` with each built-in
# script (tpcb-like, -N simple-update, -S select-only), in each query mode
# (-M simple, extended, prepared), with and without -n.  Every run must exit
# 0 with "number of failed transactions: 0" and process exactly the
# transactions asked for; after each run the four sums move together (no
# update lost):
#   tpcb-like  sum(abalance), sum(tbalance), sum(bbalance) and sum(delta)
#              of pgbench_history all move by the same amount, and history
#              gains one row per transaction;
#   -N         sum(abalance) and sum(delta) move by the same amount, history
#              gains one row per transaction, tellers and branches unchanged;
#   -S         nothing changes.
# Without -n pgbench truncates pgbench_history before the run, so its sum
# and row count start from 0 then.  Finally, after one more tpcb-like run,
# the server restarts and every sum and count must be what it was; then
# VACUUM FULL (of pgbench_accounts, then of everything) must leave them so
# and shrink the store (pg_database_size), and name a missing table 42P01.
#
# Knobs (defaults keep `make test` short):
#   PGBENCH_SCALE=N   scale factor (default 1)
#   PGBENCH_TX=N      transactions per client, -t (default 20)
#   PGBENCH_TIME=S    run each for S seconds (-T) instead of -t
#   PGBENCH_INITS     the -I step strings to test (default "dtgvp dtGvp")
# CLIENTS_SERVER=postgres runs the same against a throwaway PostgreSQL 15.
# Run by tests/run.sh from the repository root; exits 1 on any failure.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
source "$ROOT/tests/clients/lib.sh"

PGBENCH="${PGBENCH:-$PG_BIN/pgbench}"
SCALE="${PGBENCH_SCALE:-1}"
TX="${PGBENCH_TX:-20}"
TIME="${PGBENCH_TIME:-}"
INITS="${PGBENCH_INITS:-dtgvp dtGvp}"
CLIENTS=8
THREADS=2

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

[ -x "$PGBENCH" ] || { echo "FAIL: no pgbench at $PGBENCH (package postgresql-15)"; exit 1; }

clients_init
clients_need psql
clients_start plain lsm || exit 1

out="$CT/pgbench"
mkdir -p "$out"

# q SQL: one psql query, unaligned, no headers; a failure is fatal for the
# check that asked (the caller sees an empty answer).
q() {
  timeout 60 psql -X -At -v ON_ERROR_STOP=1 -c "$1" 2>"$out/q.err"
}

# sums: "a t b h hcount acount tcount bcount" - the balance sums of the four
# tables (an empty table sums to 0) and their row counts.
SUMS_SQL="select coalesce((select sum(abalance) from pgbench_accounts), 0),
                 coalesce((select sum(tbalance) from pgbench_tellers), 0),
                 coalesce((select sum(bbalance) from pgbench_branches), 0),
                 coalesce((select sum(delta) from pgbench_history), 0),
                 (select count(*) from pgbench_history),
                 (select count(*) from pgbench_accounts),
                 (select count(*) from pgbench_tellers),
                 (select count(*) from pgbench_branches)"
sums() {
  local r
  r="$(q "$SUMS_SQL")" || { echo "sums query failed: $(cat "$out/q.err")" >&2; return 1; }
  [[ "$r" =~ ^-?[0-9]+(\|-?[0-9]+){7}$ ]] || { echo "sums query returned '$r'" >&2; return 1; }
  echo "${r//|/ }"
}

# check_fresh INIT: the tables just made by `pgbench -i -I INIT -s SCALE`.
check_fresh() {
  local init="$1" s a t b h hc ac tc bc r
  s="$(sums)" || { fail "-I $init: could not read the sums"; return 1; }
  read -r a t b h hc ac tc bc <<<"$s"
  if [ "$ac $tc $bc $hc" = "$((100000 * SCALE)) $((10 * SCALE)) $SCALE 0" ]; then
    ok "-I $init: row counts accounts=$ac tellers=$tc branches=$bc history=$hc"
  else
    fail "-I $init: row counts accounts=$ac tellers=$tc branches=$bc history=$hc, want $((100000 * SCALE)) $((10 * SCALE)) $SCALE 0"
  fi
  if [ "$a $t $b $h" = "0 0 0 0" ]; then
    ok "-I $init: all four balance sums are 0"
  else
    fail "-I $init: balance sums accounts=$a tellers=$t branches=$b history=$h, want all 0"
  fi
  r="$(q "select min(aid), max(aid), count(distinct aid) from pgbench_accounts")"
  if [ "$r" = "1|$((100000 * SCALE))|$((100000 * SCALE))" ]; then
    ok "-I $init: aid runs 1..$((100000 * SCALE)) with no duplicate"
  else
    fail "-I $init: min|max|count(distinct) of aid is '$r' $(cat "$out/q.err"), want 1|$((100000 * SCALE))|$((100000 * SCALE))"
  fi
  r="$(q "select count(*) from (select bid from pgbench_accounts group by bid having count(*) = 100000) x")"
  if [ "$r" = "$SCALE" ]; then
    ok "-I $init: each of the $SCALE branches has 100000 accounts"
  else
    fail "-I $init: $r branches have 100000 accounts, want $SCALE $(cat "$out/q.err")"
  fi
  # The p step made primary keys: a duplicate key is refused (23505).
  local tbl col
  for tbl in accounts:aid tellers:tid branches:bid; do
    col="${tbl#*:}"; tbl="pgbench_${tbl%%:*}"
    r="$(timeout 60 psql -X -At -v VERBOSITY=verbose -c "insert into $tbl ($col) values (1)" 2>&1)"
    if printf '%s' "$r" | grep -q '23505'; then
      ok "-I $init: $tbl has a primary key on $col (duplicate refused with 23505)"
    else
      fail "-I $init: inserting a duplicate $col into $tbl gave '$r', want SQLSTATE 23505"
    fi
  done
}

# run_bench NAME ARGS...: one pgbench run; checks its exit code, failed and
# processed transactions; sets PROCESSED and prints the tps.
PROCESSED=0
run_bench() {
  local name="$1" log rc want limit line failed
  shift
  log="$out/run.log"
  if [ -n "$TIME" ]; then
    limit=$((TIME + 120))
    timeout "$limit" "$PGBENCH" -c "$CLIENTS" -j "$THREADS" -T "$TIME" "$@" >"$log" 2>&1
  else
    limit=300
    timeout "$limit" "$PGBENCH" -c "$CLIENTS" -j "$THREADS" -t "$TX" "$@" >"$log" 2>&1
  fi
  rc=$?
  PROCESSED=0
  if [ $rc -ne 0 ]; then
    [ $rc -eq 124 ] && fail "$name: pgbench did not finish within $limit s" ||
      fail "$name: pgbench exited with $rc"
    sed 's/^/  | /' "$log" | tail -n 30
    return 1
  fi
  failed="$(sed -n 's/^number of failed transactions: \([0-9]*\) .*/\1/p' "$log")"
  line="$(sed -n 's/^number of transactions actually processed: //p' "$log")"
  if [ "$failed" != 0 ]; then
    fail "$name: number of failed transactions is '$failed', want 0"
    sed 's/^/  | /' "$log" | tail -n 30
    return 1
  fi
  if [ -n "$TIME" ]; then
    # -T: "N" - some transactions must have run.
    if ! [[ "$line" =~ ^[0-9]+$ ]] || [ "$line" -eq 0 ]; then
      fail "$name: transactions processed '$line', want a count above 0"
      sed 's/^/  | /' "$log" | tail -n 30
      return 1
    fi
    PROCESSED="$line"
  else
    want=$((CLIENTS * TX))
    if [ "$line" != "$want/$want" ]; then
      fail "$name: transactions processed '$line', want $want/$want"
      sed 's/^/  | /' "$log" | tail -n 30
      return 1
    fi
    PROCESSED="$want"
  fi
  echo "  $name: $PROCESSED transactions, $(grep '^tps = ' "$log")"
  return 0
}

# check_run NAME SCRIPT NOVAC ARGS...: sums before, the run, sums after;
# SCRIPT is tpcb, simple or select, NOVAC 1 when -n is given.
check_run() {
  local name="$1" script="$2" novac="$3" s0 s1
  shift 3
  local a0 t0 b0 h0 hc0 ac0 tc0 bc0 a1 t1 b1 h1 hc1 ac1 tc1 bc1 hs hcs
  s0="$(sums)" || { fail "$name: could not read the sums before the run"; return; }
  read -r a0 t0 b0 h0 hc0 ac0 tc0 bc0 <<<"$s0"
  run_bench "$name" "$@" || return
  s1="$(sums)" || { fail "$name: could not read the sums after the run"; return; }
  read -r a1 t1 b1 h1 hc1 ac1 tc1 bc1 <<<"$s1"
  # History as the run found it: truncated unless -n.
  if [ "$novac" = 1 ]; then hs=$h0; hcs=$hc0; else hs=0; hcs=0; fi
  local da=$((a1 - a0)) dt=$((t1 - t0)) db=$((b1 - b0)) dh=$((h1 - hs)) dhc=$((hc1 - hcs))
  local got="accounts $da, tellers $dt, branches $db, history $dh ($dhc rows)"
  if [ "$ac1 $tc1 $bc1" != "$ac0 $tc0 $bc0" ]; then
    fail "$name: row counts of accounts/tellers/branches went from $ac0/$tc0/$bc0 to $ac1/$tc1/$bc1"
  fi
  case "$script" in
    tpcb)
      if [ $da -eq $dt ] && [ $dt -eq $db ] && [ $db -eq $dh ] && [ $dhc -eq "$PROCESSED" ]; then
        ok "$name: the four sums moved together ($got)"
      else
        fail "$name: sums moved by $got; want four equal moves and $PROCESSED history rows"
      fi ;;
    simple)
      if [ $da -eq $dh ] && [ $dt -eq 0 ] && [ $db -eq 0 ] && [ $dhc -eq "$PROCESSED" ]; then
        ok "$name: accounts and history moved together, tellers and branches unchanged ($got)"
      else
        fail "$name: sums moved by $got; want accounts = history, tellers = branches = 0, $PROCESSED history rows"
      fi ;;
    select)
      if [ $da -eq 0 ] && [ $dt -eq 0 ] && [ $db -eq 0 ] && [ $dh -eq 0 ] && [ $dhc -eq 0 ]; then
        ok "$name: nothing changed"
      else
        fail "$name: a select-only run changed the sums by $got"
      fi ;;
  esac
}

# check_server_log: a sanitizer build reports memory errors, leaks and
# undefined behaviour in the server's log.
check_server_log() {
  [ "$SERVER_KIND" = datacave ] && [ -f "$SERVER_LOG" ] || return 0
  if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$SERVER_LOG"; then
    fail "the server log reports a sanitizer error:"
    grep -E -A 12 'AddressSanitizer|LeakSanitizer|runtime error:' "$SERVER_LOG" | head -n 40 | sed 's/^/  | /'
  fi
}

for init in $INITS; do
  if timeout 600 "$PGBENCH" -i -s "$SCALE" -I "$init" >"$out/init.log" 2>&1; then
    ok "pgbench -i -s $SCALE -I $init: $(grep '^done in' "$out/init.log")"
    check_fresh "$init"
  else
    fail "pgbench -i -s $SCALE -I $init failed:"
    sed 's/^/  | /' "$out/init.log" | tail -n 30
    continue
  fi
  for script in tpcb simple select; do
    case "$script" in
      tpcb) sflag=() ;;
      simple) sflag=(-N) ;;
      select) sflag=(-S) ;;
    esac
    for mode in simple extended prepared; do
      for novac in 0 1; do
        nflag=()
        [ "$novac" = 1 ] && nflag=(-n)
        check_run "-I $init: $script -M $mode${nflag[*]:+ ${nflag[*]}}" "$script" "$novac" \
          "${sflag[@]}" -M "$mode" "${nflag[@]}"
      done
    done
  done
done

# Everything committed is still there after a restart: one more write run
# first, so that pgbench_history holds rows too.
check_run "final: tpcb -M prepared -n" tpcb 1 -M prepared -n
before="$(sums)" || fail "could not read the sums before the restart"
clients_stop
[ -n "${CLIENTS_STOP_FAILED:-}" ] && fail "the server did not stop on SIGTERM"
check_server_log
if clients_start plain lsm; then
  after="$(sums)" || fail "could not read the sums after the restart"
  if [ -n "$before" ] && [ "$before" = "$after" ]; then
    ok "after a restart the sums and counts are unchanged ($after)"
  else
    fail "sums and counts were '$before' before the restart and '$after' after"
  fi
  # VACUUM FULL compacts the storage: the versions the write runs left
  # behind go, what a read sees stays.
  size0="$(q "select pg_database_size(current_database())")"
  if q "vacuum full pgbench_accounts" >/dev/null && q "vacuum full" >/dev/null; then
    size1="$(q "select pg_database_size(current_database())")"
    after2="$(sums)" || fail "could not read the sums after VACUUM FULL"
    if [ "$after2" != "$after" ]; then
      fail "VACUUM FULL changed the sums and counts from '$after' to '$after2'"
    elif [[ "$size0" =~ ^[0-9]+$ && "$size1" =~ ^[0-9]+$ ]] && [ "$size1" -lt "$size0" ]; then
      ok "VACUUM FULL kept the sums and shrank the store from $size0 to $size1 bytes"
    else
      fail "VACUUM FULL left the store at '$size1' bytes (it was '$size0')"
    fi
  else
    fail "VACUUM FULL failed: $(cat "$out/q.err")"
  fi
  r="$(timeout 60 psql -X -At -v VERBOSITY=verbose -c "vacuum full no_such_table" 2>&1)"
  case "$r" in
    *42P01*) ok "VACUUM FULL of a missing table: 42P01" ;;
    *) fail "VACUUM FULL of a missing table said: $r" ;;
  esac
else
  fail "the server did not start again on its data"
fi
clients_stop
[ -n "${CLIENTS_STOP_FAILED:-}" ] && fail "the server did not stop on SIGTERM"
check_server_log

if [ $failures -ne 0 ]; then
  clients_show_log
  echo "$failures check(s) failed"
  exit 1
fi
echo "all pgbench checks passed"
exit 0
