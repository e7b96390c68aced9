#!/usr/bin/env bash
# scripts/soak.sh - the soak test (`make soak`; not part of `make test`).
#
# Starts `datacave serve` from the sanitizer build (ASan + UBSan, build-san/)
# on durable lsm storage with SCRAM-SHA-256 logins, and for SOAK_SECONDS runs
# mixed clients that connect and disconnect all the time:
#
#   pgbench    tpcb-like and -S (select-only), -M simple/extended/prepared,
#              with -C (a new connection per transaction) and without
#   psql       sessions running DDL (CREATE/DROP TABLE, CREATE/DROP INDEX),
#              \copy in and out, errors on purpose (23505, 42601, 22012,
#              22P02, 22012 inside a savepoint) after which the session goes
#              on, rolled-back transactions, large results,
#              wrong passwords (28P01), and cancel by SIGINT of psql during a
#              long query (psql sends a CancelRequest; 57014)
#   psycopg2   the same kinds of work through libpq, cancel with
#              conn.cancel() (57014, the session goes on), COPY through
#              copy_expert
#   kill -9    clients killed abruptly: idle in a transaction that wrote,
#              in the middle of COPY FROM STDIN, while a large result
#              streams, while a long query runs; nothing they wrote may
#              ever become visible (table soak_killed stays empty)
#   protocol   raw sockets (SCRAM login in Python): named prepared statements
#              (Parse/Bind/Execute/Close, with 08P01, 22P02 and 26000 errors
#              on purpose), and malformed protocol bytes before and after the
#              login (FATAL 08P01 and a closed connection, or an ERROR and a
#              usable session; never a hang, never XX000).  The SQL-level
#              PREPARE/EXECUTE statements are not supported by the sql
#              module, so prepared statements come from here and from
#              pgbench -M prepared.
#
# Every error a client gets is one the script expects for what it sent; any
# other error, wrong answer, hang (bounded waits everywhere) or a dead server
# fails the soak.  The server's VmRSS, thread count and socket count are
# sampled every SOAK_SAMPLE_SECONDS into $SOAK_DIR/rss.tsv.  At the end:
#
#   * pgbench's balances add up (accounts, tellers, branches and history
#     moved by the same total), soak_killed is empty;
#   * once every client is gone the server's sockets are back to the
#     listening one and its threads to the count before the clients;
#   * memory: after the warm-up (the first SOAK_WARMUP_PCT percent of the
#     run), the maximum RSS of the last third of the run may exceed the
#     maximum of the middle third by at most SOAK_RSS_TOLERANCE_MB;
#   * SIGTERM: the server exits with status 0 within 60 s, and neither its
#     stderr nor the sanitizer logs hold a report (ASan error, LeakSanitizer
#     leak, UBSan "runtime error");
#   * the server restarts on the same data directory (recovery, again under
#     the sanitizers), the balances and soak_killed read the same, and that
#     run too exits 0 without a report.
#
# Memory under ASan.  RSS is not what the release build would use:
#   - ASan keeps freed blocks in a quarantine (to catch use-after-free) before
#     reusing them: 256 MiB by default on x86_64, plus up to
#     thread_local_quarantine_size_kb per thread.  Until the quarantine is
#     full every free looks like growth, so this script sets
#     quarantine_size_mb=SOAK_QUARANTINE_MB (default 16): it fills within the
#     warm-up and RSS then plateaus.  A larger value only moves the plateau.
#   - ASan's allocator does not use glibc malloc (so malloc_trim plays no
#     part); it returns whole free pages of its size classes to the kernel
#     every allocator_release_to_os_interval_ms (set to 1000 here), so RSS
#     falls back a little after peaks, and otherwise behaves like a high-water
#     mark of the heap plus 1/8 of it in shadow memory.
#   - The caches the server may fill legitimately are the lsm block cache and
#     the memtable (plus an immutable one while it flushes).  The soak runs
#     with small ones (SOAK_BLOCK_CACHE_BYTES 8 MiB, SOAK_MEMTABLE_BYTES
#     4 MiB) so they fill during the warm-up and the growth limit can be
#     tight; with the defaults (128 and 64 MiB) a run of 10 minutes may still be
#     filling them in its last third and the limit would have to be 192 MiB
#     wider, hiding a real leak.
#   A leak of unreachable memory is reported by LeakSanitizer at exit; the
#   RSS check catches memory that stays reachable (lists, caches without a
#   bound) and leaked threads, stacks or sockets.
#
# Environment:
#   SOAK_SECONDS          length of the client phase (default 600)
#   BUILD                 build directory with SAN=1 (default build-san/)
#   SOAK_DIR              scratch directory (default: a new mktemp -d; kept
#                         when the soak fails, removed when it passes
#                         unless SOAK_KEEP=1)
#   SOAK_SAMPLE_SECONDS   RSS sampling period (default 2)
#   SOAK_WARMUP_PCT       warm-up share of the run, percent (default 20)
#   SOAK_RSS_TOLERANCE_MB allowed growth, last third vs middle third
#                         (default 24)
#   SOAK_QUARANTINE_MB    ASan quarantine_size_mb (default 16)
#   SOAK_BLOCK_CACHE_BYTES, SOAK_MEMTABLE_BYTES  lsm cache sizes (above)
#   SOAK_PORT             TCP port (default: a free one)
#   SOAK_WORKERS          the kinds of client to run (default: all of
#                         "pgbench psql psycopg2 kill protocol"; a subset
#                         tells which kind a memory trend comes from)
set -u

here=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$here/.." && pwd)
BUILD=${BUILD:-$ROOT/build-san}
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "soak: no build directory ${BUILD}" >&2; exit 1; }
DC=$BUILD/bin/datacave
SOAK_SECONDS=${SOAK_SECONDS:-600}
SOAK_SAMPLE_SECONDS=${SOAK_SAMPLE_SECONDS:-2}
SOAK_WARMUP_PCT=${SOAK_WARMUP_PCT:-20}
SOAK_RSS_TOLERANCE_MB=${SOAK_RSS_TOLERANCE_MB:-24}
SOAK_QUARANTINE_MB=${SOAK_QUARANTINE_MB:-16}
SOAK_BLOCK_CACHE_BYTES=${SOAK_BLOCK_CACHE_BYTES:-8388608}
SOAK_WORKERS=${SOAK_WORKERS:-pgbench psql psycopg2 kill protocol}
SOAK_MEMTABLE_BYTES=${SOAK_MEMTABLE_BYTES:-4194304}
PY=/usr/bin/python3
USER_NAME=soak
USER_PW="soak pass'word"

die() { echo "soak: $*" >&2; exit 1; }
[ -x "$DC" ] || die "$DC is missing (make BUILD=build-san SAN=1 all)"
for m in pgwire sql lsm password; do
  [ -f "$BUILD/modules/$m.so" ] || die "$BUILD/modules/$m.so is missing"
done
for c in psql pgbench pg_isready timeout awk; do
  command -v $c >/dev/null 2>&1 || die "'$c' is not installed (scripts/deps.sh installs it)"
done
"$PY" -c 'import psycopg2' 2>/dev/null || die "$PY cannot import psycopg2 (python3-psycopg2)"
nm -D "$DC" 2>/dev/null | grep -q __asan_init ||
  echo "soak: warning: $DC does not look like an ASan build (make BUILD=build-san SAN=1 all)"

if [ -n "${SOAK_DIR:-}" ]; then
  # Reused only when empty or left by an earlier soak.
  [ -d "$SOAK_DIR" ] && [ -n "$(ls -A "$SOAK_DIR")" ] && [ ! -f "$SOAK_DIR/datacave.toml" ] &&
    die "SOAK_DIR $SOAK_DIR is not empty and not an earlier soak's directory"
  rm -rf "$SOAK_DIR"; mkdir -p "$SOAK_DIR"
else SOAK_DIR=$(mktemp -d /tmp/datacave-soak.XXXXXX); fi
D=$SOAK_DIR
mkdir -p "$D/san" "$D/counts" "$D/work"
: >"$D/failures"
PORT=${SOAK_PORT:-$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}

SERVER_PID=""
WORKER_PIDS=()
SAMPLER_PID=""
cleanup() {
  local p
  for p in "${WORKER_PIDS[@]}" $SAMPLER_PID; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null; done
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"; sleep 2; kill -KILL "$SERVER_PID" 2>/dev/null
  fi
}
trap cleanup EXIT
trap 'echo "soak: interrupted"; exit 1' INT TERM

fail() { echo "$*" >>"$D/failures"; }

# ---- the server ---------------------------------------------------------------
hash=$("$DC" gen-password-hash --password "$USER_PW" 2>/dev/null | grep '^SCRAM-SHA-256\$' | tail -n 1)
[ -n "$hash" ] || die "datacave gen-password-hash printed no SCRAM secret"
cat >"$D/datacave.toml" <<EOF
[server]
listen_addr = "127.0.0.1:$PORT"
module_dir = "$BUILD/modules"
max_connections = 100

[log]
level = "warn"

[modules]
protocol = "pgwire"
sql = "sql"
storage = "lsm"
auth = "password"
encryption = "none"
metrics = ""

[module.lsm]
block_cache_bytes = $SOAK_BLOCK_CACHE_BYTES

[module.password]
method = "scram-sha-256"

[storage]
data_dir = "$D/data"
memtable_max_bytes = $SOAK_MEMTABLE_BYTES
compaction_interval_secs = 10

[security.auth]
enabled = true

[[security.auth.roles]]
name = "admin"
can_read = true
can_write = true
is_admin = true

[[security.auth.users]]
username = "$USER_NAME"
password_hash = "$hash"
roles = ["admin"]
EOF

export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:log_path=$D/san/asan:quarantine_size_mb=$SOAK_QUARANTINE_MB:allocator_release_to_os_interval_ms=1000:malloc_context_size=30"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$D/san/ubsan"
export LSAN_OPTIONS="report_objects=1"

start_server() {  # start_server LOGNAME
  "$DC" serve --config "$D/datacave.toml" >"$D/$1.out" 2>"$D/$1.err" &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$D/$1.err"; die "the server exited at start"; }
    pg_isready -q -h 127.0.0.1 -p "$PORT" -t 1 && return 0
    sleep 0.2
  done
  die "the server did not accept connections within 60 s"
}

# stop_server LOGNAME: SIGTERM, wait 60 s at most, then check the exit
# status, stderr and the sanitizer logs.  Returns 1 on any problem.
stop_server() {
  local name=$1 rc bad=0 f
  kill -TERM "$SERVER_PID"
  for _ in $(seq 1 600); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "FAIL: $name: the server ignored SIGTERM for 60 s; killed"
    kill -KILL "$SERVER_PID"; bad=1
  fi
  wait "$SERVER_PID"; rc=$?
  SERVER_PID=""
  echo "$name: exit status $rc"
  [ $rc = 0 ] || { echo "FAIL: $name: exit status $rc (a sanitizer report makes it nonzero)"; bad=1; }
  # The server's own log: what it said, by kind (numbers folded); a
  # message at level error fails the soak (the expected one is the warning
  # for each wrong password).
  if [ -s "$D/$name.err" ]; then
    echo "$name: server log lines by kind:"
    grep -E '^[0-9]{4}-' "$D/$name.err" | sed -E 's/^[^ ]+ +//; s/[0-9]+/N/g' | sort | uniq -c | sort -rn | head -n 20 | sed 's/^/  /'
    if grep -qE '^[0-9]{4}-[^ ]+ +error ' "$D/$name.err"; then
      echo "FAIL: $name: the server logged errors:"
      grep -E '^[0-9]{4}-[^ ]+ +error ' "$D/$name.err" | head -n 20 | sed 's/^/  | /'
      bad=1
    fi
  fi
  for f in "$D/$name.err" "$D"/san/*; do
    [ -f "$f" ] || continue
    if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: |Sanitizer' "$f"; then
      echo "FAIL: $name: sanitizer report in $f:"
      sed -n 1,80p "$f" | sed 's/^/  | /'
      bad=1
    fi
  done
  return $bad
}

export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=$USER_NAME PGPASSWORD=$USER_PW PGDATABASE=default PGCONNECT_TIMEOUT=30
unset PGSSLMODE PGSERVICE PGPASSFILE PGOPTIONS
sql() { timeout -s KILL 120 psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }

echo "soak: $DC, lsm in $D/data, port $PORT, $SOAK_SECONDS s of clients"
echo "soak: ASAN_OPTIONS=$ASAN_OPTIONS"
start_server server
pgbench -i -q -s 1 >"$D/pgbench-init.log" 2>&1 || { cat "$D/pgbench-init.log"; die "pgbench -i failed"; }
sql "create table soak_killed (k bigint primary key, v text)" || die "create table soak_killed failed"

status_of() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null; }
sockets_of() { local n=0 l; for l in /proc/$1/fd/*; do case $(readlink "$l" 2>/dev/null) in socket:*) n=$((n + 1)) ;; esac; done; echo $n; }
# Idle: only the listening socket (the set-up clients' threads may still be
# ending: bounded wait).
for _ in $(seq 1 300); do [ "$(sockets_of "$SERVER_PID")" -le 1 ] && break; sleep 0.1; done
BASE_THREADS=$(status_of "$SERVER_PID" Threads)
BASE_SOCKETS=$(sockets_of "$SERVER_PID")
BASE_RSS=$(status_of "$SERVER_PID" VmRSS)
echo "soak: before the clients: RSS $BASE_RSS kB, $BASE_THREADS threads, $BASE_SOCKETS sockets"

# ---- clients --------------------------------------------------------------------
T0=$(date +%s)
DEADLINE=$((T0 + SOAK_SECONDS))
STOP=$D/stop
should_stop() { [ -e "$STOP" ] || [ "$(date +%s)" -ge "$DEADLINE" ]; }

# pgbench_worker NAME EXTRA_ARGS: cycles tpcb-like and -S over the three
# query modes, 10 s per run, until the deadline.
pgbench_worker() {
  local name=$1 extra=$2 runs=0 txns=0 left t mode script log rc n f
  log=$D/work/$name.log
  while ! should_stop; do
    for mode in simple extended prepared; do
      for script in tpcb -S; do
        should_stop && break 2
        left=$((DEADLINE - $(date +%s))); t=10; [ $left -lt $t ] && t=$left; [ $t -lt 1 ] && break 2
        local a=(-n -M "$mode" -T "$t" $extra)
        [ "$script" = -S ] && a+=(-S)
        timeout -s KILL $((t + 120)) pgbench "${a[@]}" >"$log" 2>&1; rc=$?
        n=$(awk '/^number of transactions actually processed:/ {print $6}' "$log")
        f=$(awk '/^number of failed transactions:/ {print $5}' "$log")
        if [ $rc != 0 ] || [ -z "$n" ] || [ "${f:-0}" != 0 ]; then
          fail "$name: pgbench ${a[*]} exit $rc: $(tr '\n' ' ' <"$log" | tail -c 600)"
          return 1
        fi
        runs=$((runs + 1)); txns=$((txns + n))
        printf 'runs=%s\ntransactions=%s\n' $runs $txns >"$D/counts/$name"
      done
    done
  done
  printf 'runs=%s\ntransactions=%s\n' $runs $txns >"$D/counts/$name"
}

# psql_worker ID: one psql session per step, each checked: its stdout against
# answers derived from the data it loaded, its errors against the SQLSTATEs
# it provoked, in order.
psql_worker() {
  local id=$1 i=0 sessions=0 experr=0 cancels=0 badpw=0 big=0 w
  w=$D/work/psql$id
  mkdir -p "$w"
  while ! should_stop; do
    i=$((i + 1))
    local t=soak_psql_${id}_$i n=$((RANDOM % 2000 + 200)) sum cnt3 exp got rc
    awk -v n=$n 'BEGIN { for (i = 1; i <= n; i++) printf "%d\tv%d\t%d\n", i, i * 7, (i * 31) % 97 }' >"$w/in.tsv"
    sum=$(awk -F'\t' '{ s += $3 } END { print s }' "$w/in.tsv")
    cnt3=$(awk -F'\t' '$3 == 3 { c++ } END { print c + 0 }' "$w/in.tsv")
    local bigsql="" bign=0
    if [ $((i % 4)) = 0 ]; then
      bign=$((100000 + RANDOM))
      bigsql="\\copy (select g, repeat('x', 200) from generate_series(1, $bign) g) to '$w/big.tsv'"
    fi
    cat >"$w/s.sql" <<EOF
create table $t (id int primary key, v text, n int);
create index ${t}_n on $t (n);
\\copy $t from '$w/in.tsv'
select count(*), sum(n) from $t;
insert into $t values (1, 'dup', 0);
selec 1;
select 1 / 0;
select n from $t where id = 'x';
begin;
insert into $t values (-1, 'gone', 5);
delete from $t where id <= 10;
rollback;
select count(*), sum(n) from $t;
begin;
insert into $t select id + 100000, v, n from $t;
savepoint s1;
select 1 / (n - n) from $t where id = 1;
rollback to savepoint s1;
commit;
select count(*) from $t;
select v from $t where id = 5;
select count(*) from $t where n = 3;
\\copy (select id, v, n from $t where id < 100000 order by id) to '$w/out.tsv'
$bigsql
drop index ${t}_n;
drop table $t;
EOF
    exp=$(printf '%s|%s\n%s|%s\n%s\nv35\n%s' "$n" "$sum" "$n" "$sum" $((2 * n)) $((2 * cnt3)))
    got=$(timeout -s KILL 300 psql -X -q -At -v VERBOSITY=sqlstate -f "$w/s.sql" 2>"$w/err"); rc=$?
    sessions=$((sessions + 1))
    local errs
    errs=$(grep -o 'ERROR:  [0-9A-Z]\{5\}' "$w/err" | awk '{print $2}' | tr '\n' ' ')
    if [ $rc != 0 ] || [ "$got" != "$exp" ] || [ "$errs" != "23505 42601 22012 22P02 22012 " ] ||
       [ "$(grep -vc 'ERROR:  [0-9A-Z]\{5\}' "$w/err")" != 0 ] || ! cmp -s "$w/in.tsv" "$w/out.tsv"; then
      fail "psql$id: step $i: exit $rc, errors '$errs' (want '23505 42601 22012 22P02 22012 '), output '$(echo $got)' (want '$(echo $exp)'), stderr: $(tr '\n' ' ' <"$w/err" | head -c 600); copy round trip: $(cmp "$w/in.tsv" "$w/out.tsv" 2>&1)"
      return 1
    fi
    experr=$((experr + 5))
    if [ $bign != 0 ]; then
      if [ "$(wc -l <"$w/big.tsv")" != $bign ] || [ "$(tail -n 1 "$w/big.tsv" | cut -f1)" != $bign ]; then
        fail "psql$id: step $i: the large result has $(wc -l <"$w/big.tsv") rows, want $bign"; return 1
      fi
      big=$((big + 1)); rm -f "$w/big.tsv"
    fi
    if [ $((i % 3)) = 1 ]; then
      # a wrong password: FATAL 28P01, psql exits 2
      PGPASSWORD=wrong timeout -s KILL 60 psql -X -At -c 'select 1' >"$w/out" 2>"$w/err"; rc=$?
      sessions=$((sessions + 1))
      if [ $rc != 2 ] || ! grep -q "password authentication failed for user \"$USER_NAME\"" "$w/err"; then
        fail "psql$id: wrong password: exit $rc: $(tr '\n' ' ' <"$w/err")"; return 1
      fi
      badpw=$((badpw + 1)); experr=$((experr + 1))
    fi
    if [ $((i % 3)) = 2 ]; then
      # cancel: SIGINT to psql during a long query; psql sends a
      # CancelRequest, the query fails with 57014 and psql (running a
      # script) stops with exit 3.  The marker file says psql is connected
      # and about to send the query.
      rm -f "$w/started"
      printf '\\! touch %s\nselect count(*) from generate_series(1, 30000) a, generate_series(1, 30000) b;\n\\echo not-cancelled\n' "$w/started" >"$w/long.sql"
      psql -X -q -At -v VERBOSITY=sqlstate -f "$w/long.sql" >"$w/out" 2>"$w/err" &
      local pp=$! k
      for k in $(seq 1 600); do [ -e "$w/started" ] && break; kill -0 $pp 2>/dev/null || break; sleep 0.1; done
      sleep 0.3
      kill -INT $pp 2>/dev/null
      for k in $(seq 1 600); do kill -0 $pp 2>/dev/null || break; sleep 0.1; done
      if kill -0 $pp 2>/dev/null; then
        kill -KILL $pp; fail "psql$id: psql did not end within 60 s of SIGINT (cancel not honoured)"; return 1
      fi
      wait $pp; rc=$?
      sessions=$((sessions + 1))
      if [ $rc != 3 ] || ! grep -q 'ERROR:  57014' "$w/err" || grep -q not-cancelled "$w/out"; then
        fail "psql$id: cancel: exit $rc, stdout '$(cat "$w/out")', stderr: $(tr '\n' ' ' <"$w/err")"; return 1
      fi
      cancels=$((cancels + 1)); experr=$((experr + 1))
    fi
    printf 'sessions=%s\nexpected_errors=%s\ncancels=%s\nwrong_passwords=%s\nlarge_results=%s\n' \
      $sessions $experr $cancels $badpw $big >"$D/counts/psql$id"
  done
}

# The Python clients (psycopg2 sessions, kill -9 victims, raw protocol).
cat >"$D/soak.py" <<'PYEOF'
import base64, hashlib, hmac, io, os, random, signal, socket, struct, subprocess
import sys, threading, time
import psycopg2, psycopg2.errors

mode, wid, deadline, stopfile, countfile, failfile, workdir = sys.argv[1:8]
deadline = float(deadline)
HOST, PORT = os.environ['PGHOST'], int(os.environ['PGPORT'])
USER, PW = os.environ['PGUSER'], os.environ['PGPASSWORD']
counts = {}

def bump(k, n=1):
    counts[k] = counts.get(k, 0) + n

def save():
    with open(countfile + '.tmp', 'w') as f:
        for k in sorted(counts):
            f.write('%s=%d\n' % (k, counts[k]))
    os.replace(countfile + '.tmp', countfile)

def stop():
    return os.path.exists(stopfile) or time.time() >= deadline

class Fail(Exception):
    pass

def check(cond, what):
    if not cond:
        raise Fail(what)

def connect():
    c = psycopg2.connect(host=HOST, port=PORT, user=USER, password=PW, dbname='default',
                         connect_timeout=30)
    bump('sessions')
    return c

def expect_error(cur, sql, code, args=None):
    try:
        cur.execute(sql, args)
    except psycopg2.Error as e:
        check(e.pgcode == code, '%r: SQLSTATE %s (%s), want %s' % (sql, e.pgcode, str(e).strip(), code))
        bump('expected_errors')
        return
    raise Fail('%r succeeded, want SQLSTATE %s' % (sql, code))

# ---- psycopg2 sessions ----------------------------------------------------------
def one_table(conn, tag):
    t = 'soak_py_%s_%s' % (wid, tag)
    cur = conn.cursor()
    cur.execute('create table %s (id int primary key, v text, n int)' % t)
    cur.execute('create unique index %s_v on %s (v)' % (t, t))
    return cur, t

def act_errors(conn, tag):
    cur, t = one_table(conn, tag)
    cur.execute('insert into %s values (1, %%s, 1), (2, %%s, 2)' % t, ('a', 'b'))
    expect_error(cur, 'insert into %s values (1, \'c\', 3)' % t, '23505')
    expect_error(cur, 'insert into %s values (3, \'a\', 3)' % t, '23505')
    expect_error(cur, 'selct * from %s' % t, '42601')
    expect_error(cur, 'select n / (n - n) from %s' % t, '22012')
    expect_error(cur, 'select * from soak_no_such_table', '42P01')
    expect_error(cur, "select 'abc'::int", '22P02')
    cur.execute('select count(*), sum(n) from %s' % t)
    check(cur.fetchone() == (2, 2 + 1), 'rows after the errors')
    cur.execute('drop table %s' % t)

def act_rollback(conn, tag):
    cur, t = one_table(conn, tag)
    cur.execute('insert into %s select g, \'v\' || g, g %% 7 from generate_series(1, 500) g' % t)
    conn.autocommit = False
    try:
        cur.execute('delete from %s where id <= 250' % t)
        cur.execute('insert into %s values (-1, \'x\', 0)' % t)
        conn.rollback()
        cur.execute('insert into %s values (1000, \'k\', 0)' % t)
        cur.execute('savepoint s')
        try:
            cur.execute('insert into %s values (1000, \'k2\', 0)' % t)
            raise Fail('duplicate key inside a savepoint succeeded')
        except psycopg2.errors.UniqueViolation:
            bump('expected_errors')
        expect_error(cur, 'select 1', '25P02')   # the transaction is aborted
        cur.execute('rollback to savepoint s')
        conn.commit()
    finally:
        conn.autocommit = True
    cur.execute('select count(*), sum(id) from %s' % t)
    check(cur.fetchone() == (501, 500 * 501 // 2 + 1000), 'rows after rollbacks')
    cur.execute('drop table %s' % t)
    bump('rollbacks', 2)

def act_large(conn, tag):
    n = random.randint(50000, 150000)
    cur = conn.cursor()
    cur.execute("select g, repeat('y', 100 + g %% 50) from generate_series(1, %d) g" % n)
    rows = cur.fetchall()
    check(len(rows) == n and rows[-1][0] == n and len(rows[-1][1]) == 100 + n % 50, 'large result')
    bump('large_results')
    bump('large_result_rows', n)

def act_copy(conn, tag):
    cur, t = one_table(conn, tag)
    n = random.randint(1000, 20000)
    data = ''.join('%d\tw%d\t%d\n' % (i, i, i % 13) for i in range(1, n + 1))
    cur.copy_expert('copy %s from stdin' % t, io.StringIO(data))
    out = io.StringIO()
    cur.copy_expert('copy %s to stdout' % t, out)
    check(out.getvalue() == data, 'COPY round trip of %d rows' % n)
    bad = '1\tdup\t1\n'
    expect_copy = io.StringIO(bad)
    try:
        cur.copy_expert('copy %s from stdin' % t, expect_copy)
        raise Fail('COPY of a duplicate key succeeded')
    except psycopg2.errors.UniqueViolation:
        bump('expected_errors')
    cur.execute('select count(*) from %s' % t)
    check(cur.fetchone() == (n,), 'rows after the failed COPY')
    cur.execute('drop table %s' % t)
    bump('copies')

def act_cancel(conn, tag):
    cur = conn.cursor()
    done = threading.Event()
    sent = [0]
    def canceller():
        # The first CancelRequest may arrive before the query starts (then it
        # is ignored): send one every 3 s until the query has returned.
        if done.wait(0.3):
            return
        while True:
            conn.cancel()
            sent[0] += 1
            if done.wait(3) or sent[0] > 20:
                return
    th = threading.Thread(target=canceller)
    th.start()
    try:
        cur.execute('select count(*) from generate_series(1, 30000) a, generate_series(1, 30000) b')
        err = None
    except psycopg2.Error as e:
        err = e
    done.set()
    th.join()
    check(err is not None, 'the long query was not cancelled')
    check(err.pgcode == '57014', 'cancel gave SQLSTATE %s (%s)' % (err.pgcode, str(err).strip()))
    cur.execute('select 42')
    check(cur.fetchone() == (42,), 'the session after cancel')
    bump('cancels')
    bump('expected_errors')

ACTIONS = [act_errors, act_rollback, act_large, act_copy, act_cancel]

def run_psycopg2():
    seq = 0
    while not stop():
        conn = connect()
        conn.autocommit = True
        for _ in range(random.randint(1, 4)):
            seq += 1
            act = random.choice(ACTIONS)
            act(conn, str(seq))
            bump('actions')
            if stop():
                break
        conn.close()
        save()

# ---- kill -9 of clients ------------------------------------------------------------
# Victims write only to soak_killed and never commit: every row there would
# be a transaction the server kept from a dead client.
def victim(kind, base):
    conn = connect()
    conn.autocommit = kind == 'copy'
    cur = conn.cursor()
    if kind == 'txn':
        cur.execute("insert into soak_killed select %d + g, 'txn' from generate_series(1, 200) g" % base)
        os.kill(os.getpid(), signal.SIGKILL)
    elif kind == 'copy':
        class Src:
            sent = 0
            def read(self, size=-1):
                if self.sent >= 40:
                    os.kill(os.getpid(), signal.SIGKILL)
                self.sent += 1
                return ''.join('%d\tcopy\n' % (base + self.sent * 100 + i) for i in range(100))
        cur.copy_expert('copy soak_killed from stdin', Src())
    elif kind == 'stream':
        print('started', flush=True)
        cur.execute("select g, repeat('z', 300) from generate_series(1, 3000000) g")
    elif kind == 'busy':
        print('started', flush=True)
        cur.execute('select count(*) from generate_series(1, 3000) a, generate_series(1, 3000) b')
    time.sleep(600)

def run_kill():
    seq = 0
    kinds = ['txn', 'copy', 'stream', 'busy']
    while not stop():
        seq += 1
        kind = kinds[seq % len(kinds)]
        p = subprocess.Popen([sys.executable, __file__, 'victim', wid, str(deadline), stopfile,
                              os.path.join(workdir, 'victim.counts'), failfile, workdir, kind,
                              str(seq * 1000000)],
                             stdout=subprocess.PIPE, env=os.environ)
        if kind in ('stream', 'busy'):
            line = p.stdout.readline()
            check(line == b'started\n', 'victim %s printed %r' % (kind, line))
            time.sleep(random.uniform(0.05, 0.8))
            p.send_signal(signal.SIGKILL)
        try:
            rc = p.wait(120)
        except subprocess.TimeoutExpired:
            p.kill()
            raise Fail('victim %s did not die within 120 s' % kind)
        check(rc == -signal.SIGKILL, 'victim %s ended with %s, want SIGKILL' % (kind, rc))
        bump('sessions')
        bump('killed_' + kind)
        conn = connect()
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute('select count(*) from soak_killed')
        check(cur.fetchone() == (0,), 'soak_killed holds rows of a killed client')
        conn.close()
        save()

# ---- malformed protocol bytes -----------------------------------------------------
def frame(t, body):
    return t + struct.pack('!i', len(body) + 4) + body

def recv_exact(s, n):
    b = b''
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            return None
        b += c
    return b

def recv_msg(s):
    h = recv_exact(s, 5)
    if h is None:
        return None
    n = struct.unpack('!i', h[1:5])[0] - 4
    check(0 <= n < 1 << 26, 'server message length %d' % n)
    b = recv_exact(s, n)
    check(b is not None, 'truncated server message')
    return h[:1], b

def fields(b):
    return {chr(f[0]): f[1:].decode(errors='replace') for f in b.split(b'\0') if f}

def startup_packet():
    body = struct.pack('!i', 196608) + b'user\0' + USER.encode() + b'\0database\0default\0\0'
    return struct.pack('!i', len(body) + 4) + body

def login():
    s = socket.create_connection((HOST, PORT), timeout=30)
    s.sendall(startup_packet())
    t, b = recv_msg(s)
    check(t == b'R' and struct.unpack('!i', b[:4])[0] == 10, 'SASL request, got %r' % ((t, b[:40]),))
    cnonce = base64.b64encode(os.urandom(18)).decode()
    bare = 'n=,r=' + cnonce
    first = ('n,,' + bare).encode()
    s.sendall(frame(b'p', b'SCRAM-SHA-256\0' + struct.pack('!i', len(first)) + first))
    t, b = recv_msg(s)
    check(t == b'R' and struct.unpack('!i', b[:4])[0] == 11, 'SASL continue, got %r' % ((t, b[:40]),))
    sf = b[4:].decode()
    a = dict(x.split('=', 1) for x in sf.split(','))
    salted = hashlib.pbkdf2_hmac('sha256', PW.encode(), base64.b64decode(a['s']), int(a['i']))
    ck = hmac.new(salted, b'Client Key', 'sha256').digest()
    final = 'c=biws,r=' + a['r']
    sig = hmac.new(hashlib.sha256(ck).digest(), (bare + ',' + sf + ',' + final).encode(), 'sha256').digest()
    proof = base64.b64encode(bytes(x ^ y for x, y in zip(ck, sig))).decode()
    s.sendall(frame(b'p', (final + ',p=' + proof).encode()))
    while True:
        m = recv_msg(s)
        check(m is not None, 'connection closed during login')
        t, b = m
        check(t != b'E', 'login failed: %r' % fields(b))
        if t == b'Z':
            bump('sessions')
            return s

def replies(s):
    """Messages until EOF or ReadyForQuery; a 10 s silence is a hang."""
    out = []
    s.settimeout(10)
    try:
        while True:
            m = recv_msg(s)
            if m is None:
                out.append(('EOF', None))
                return out
            out.append((m[0].decode(), fields(m[1]) if m[0] in (b'E', b'N') else None))
            if m[0] == b'Z':
                return out
    except socket.timeout:
        raise Fail('the server neither answered nor closed within 10 s: %r' % out)
    except ConnectionResetError:
        out.append(('EOF', None))
        return out

def fatal_08p01(out, what):
    check(len(out) == 2 and out[0][0] == 'E' and out[0][1].get('S') == 'FATAL'
          and out[0][1].get('C') == what and out[1][0] == 'EOF', 'want FATAL %s and EOF, got %r' % (what, out))
    bump('expected_errors')

def parse(name, q, types):
    return frame(b'P', name + b'\0' + q + b'\0' + struct.pack('!h', len(types)) +
                 b''.join(struct.pack('!i', t) for t in types))

def bind(stmt, params):
    b = b'\0' + stmt + b'\0' + struct.pack('!hh', 0, len(params))
    for p in params:
        b += struct.pack('!i', len(p)) + p
    return frame(b'B', b + struct.pack('!h', 0))

EXEC_SYNC = frame(b'E', b'\0' + struct.pack('!i', 0)) + frame(b'S', b'')

def prepared(s, seq):
    # A named statement executed many times with different parameters (text
    # format), errors on purpose between, then closed.
    name = b'ps%d' % seq
    s.sendall(parse(name, b"select $1::int + 1, repeat('a', $2::int)", [23, 23]) + frame(b'S', b''))
    out = replies(s)
    check([m[0] for m in out] == ['1', 'Z'], 'Parse: %r' % out)
    for i in range(random.randint(5, 50)):
        x, n = random.randint(-1000000, 1000000), random.randint(0, 300)
        s.sendall(bind(name, [b'%d' % x, b'%d' % n]) + EXEC_SYNC)
        m = recv_msg(s)
        check(m[0] == b'2', 'BindComplete, got %r' % (m,))
        t, b = recv_msg(s)
        check(t == b'D', 'DataRow, got %r' % ((t, b[:80]),))
        want = b'%d' % (x + 1)
        check(b == struct.pack('!hi', 2, len(want)) + want + struct.pack('!i', n) + b'a' * n,
              'prepared statement row for (%d, %d): %r' % (x, n, b[:80]))
        out = replies(s)
        check([m[0] for m in out] == ['C', 'Z'], 'after the row: %r' % out)
        bump('prepared_executions')
    for params, code in (([b'1'], '08P01'), ([b'x', b'1'], '22P02')):
        s.sendall(bind(name, params) + EXEC_SYNC)
        out = replies(s)
        check(len(out) == 2 and out[0][0] == 'E' and out[0][1].get('C') == code and out[1][0] == 'Z',
              'Bind %r: want ERROR %s, got %r' % (params, code, out))
        bump('expected_errors')
    s.sendall(frame(b'C', b'S' + name + b'\0') + frame(b'S', b''))
    out = replies(s)
    check([m[0] for m in out] == ['3', 'Z'], 'Close: %r' % out)
    s.sendall(bind(name, [b'1', b'1']) + EXEC_SYNC)
    out = replies(s)
    check(len(out) == 2 and out[0][1].get('C') == '26000', 'Bind after Close: %r' % out)
    bump('expected_errors')
    bump('prepared_statements')
    s.sendall(frame(b'X', b''))

def run_garbage():
    fixed_after_login = [
        b'\x01' + struct.pack('!i', 4),
        b'Q' + struct.pack('!i', 2),
        b'Q' + struct.pack('!i', 0x7ffffff0),
        frame(b'Q', b'select 1'),
        frame(b'P', b'\0select 1\0' + struct.pack('!h', -5)),
        frame(b'B', b'\0\0' + struct.pack('!h', 3)),
    ]
    fixed_before = [
        (os.urandom(4) + os.urandom(60), '08P01'),
        (struct.pack('!i', 1 << 30) + b'xxxx', '08P01'),
        (struct.pack('!i', 3), '08P01'),
        (struct.pack('!ii', 8, 12345), '0A000'),
    ]
    seq = 0
    while not stop():
        seq += 1
        k = seq % 6
        if k == 5:
            s = login()
            prepared(s, seq)
        elif k == 0:
            s = login()
            s.sendall(random.choice(fixed_after_login))
            fatal_08p01(replies(s), '08P01')
        elif k == 1:
            data, code = random.choice(fixed_before)
            if code == '08P01' and len(data) == 64:
                # a random length word: make it invalid (< 8 or > 10000)
                data = struct.pack('!i', random.choice([0, 5, 10001, 1 << 29, -7])) + data[4:]
            s = socket.create_connection((HOST, PORT), timeout=30)
            s.sendall(data)
            fatal_08p01(replies(s), code)
        elif k == 2:
            # a well-framed message of a random type with a random body,
            # then Sync: an ERROR and ReadyForQuery, or FATAL and EOF, or
            # (Terminate) EOF; never an internal error, never silence
            s = login()
            t = random.choice(b'QPBEDCHSFfdcpX')
            s.sendall(frame(bytes([t]), os.urandom(random.randint(0, 64))) + frame(b'S', b''))
            out = replies(s)
            for kind, f in out:
                if kind == 'E':
                    check(not f.get('C', '').startswith('XX'), 'internal error for type %r: %r' % (chr(t), f))
                    bump('expected_errors')
            check(out[-1][0] in ('Z', 'EOF'), 'random frame: %r' % out)
            if out[-1][0] == 'Z':
                # (a random Sync-like frame may have left one more
                # ReadyForQuery behind the one read)
                s.sendall(frame(b'Q', b'select 7\0'))
                out = replies(s)
                if out == [('Z', None)]:
                    out = replies(s)
                check([m[0] for m in out] == ['T', 'D', 'C', 'Z'], 'session after a random frame: %r' % out)
        elif k == 3:
            # half a message, then the socket closes
            s = login()
            s.sendall(b'Q' + struct.pack('!i', 1000) + b'select ')
            s.close()
            bump('half_messages')
            continue
        else:
            # a CancelRequest with a key nobody has: the server closes it
            s = socket.create_connection((HOST, PORT), timeout=30)
            s.sendall(struct.pack('!iiii', 16, 80877102, random.randint(1, 1 << 30), random.randint(0, 1 << 30)))
            out = replies(s)
            check(out == [('EOF', None)], 'bogus CancelRequest: %r' % out)
        s.close()
        bump('connections')
        if seq % 20 == 0:
            save()

try:
    if mode == 'victim':
        victim(sys.argv[8], int(sys.argv[9]))
        sys.exit(0)
    {'psycopg2': run_psycopg2, 'kill': run_kill, 'protocol': run_garbage}[mode]()
    save()
except Exception as e:
    save()
    import traceback
    with open(failfile, 'a') as f:
        f.write('%s%s: %s: %s\n' % (mode, wid, type(e).__name__, str(e).strip().replace('\n', ' ')[:800]))
        f.write(''.join(traceback.format_exc().splitlines(True)[-6:]).replace('\n', ' | ') + '\n')
    sys.exit(1)
PYEOF

pyworker() {  # pyworker MODE ID
  "$PY" "$D/soak.py" "$1" "$2" "$DEADLINE" "$STOP" "$D/counts/$1$2" "$D/failures" "$D/work"
}

# Each worker in its own process group, so that cleanup can stop it whole.
set -m
want() { case " $SOAK_WORKERS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
if want pgbench; then
  pgbench_worker pgbench-conn "-c 4 -j 2" & WORKER_PIDS+=($!)
  pgbench_worker pgbench-C "-C -c 2 -j 1" & WORKER_PIDS+=($!)
fi
if want psql; then
  psql_worker 1 & WORKER_PIDS+=($!)
  psql_worker 2 & WORKER_PIDS+=($!)
fi
if want psycopg2; then
  pyworker psycopg2 1 & WORKER_PIDS+=($!)
  pyworker psycopg2 2 & WORKER_PIDS+=($!)
fi
want kill && { pyworker kill 1 & WORKER_PIDS+=($!); }
want protocol && { pyworker protocol 1 & WORKER_PIDS+=($!); }
[ ${#WORKER_PIDS[@]} -gt 0 ] || die "SOAK_WORKERS names no worker (pgbench psql psycopg2 kill protocol)"
set +m

# ---- sampling ----------------------------------------------------------------------
printf 'secs\trss_kb\tthreads\tsockets\n' >"$D/rss.tsv"
early=""
while :; do
  now=$(date +%s)
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    fail "server: died during the soak"; early=1; break
  fi
  printf '%s\t%s\t%s\t%s\n' $((now - T0)) "$(status_of "$SERVER_PID" VmRSS)" "$(status_of "$SERVER_PID" Threads)" \
    "$(sockets_of "$SERVER_PID")" >>"$D/rss.tsv"
  [ -s "$D/failures" ] && { early=1; break; }
  [ "$now" -ge "$DEADLINE" ] && break
  sleep "$SOAK_SAMPLE_SECONDS"
done
touch "$STOP"
[ -n "$early" ] && echo "soak: stopping early: $(head -n 1 "$D/failures")"

# Workers end at the deadline (a pgbench run is at most 10 s, a cancelled
# query returns at once); give them 180 s.
for p in "${WORKER_PIDS[@]}"; do
  for _ in $(seq 1 1800); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then
    fail "a worker (pid $p) did not stop within 180 s of the deadline"
    kill -- "-$p" 2>/dev/null
  fi
  wait "$p" 2>/dev/null || fail "a worker (pid $p) exited with status $? (its last step is above or in $D/work)"
done
WORKER_PIDS=()
ELAPSED=$(($(date +%s) - T0))

echo
echo "== clients ($ELAPSED s)"
for f in "$D"/counts/*; do
  [ -f "$f" ] && printf '%-14s %s\n' "$(basename "$f")" "$(tr '\n' ' ' <"$f")"
done
awk -F= '{ s[$1] += $2 } END { printf "total          sessions=%d expected_errors=%d pgbench_transactions=%d\n", s["sessions"], s["expected_errors"], s["transactions"] }' "$D"/counts/*

# ---- checks with the clients gone ---------------------------------------------------
if kill -0 "$SERVER_PID" 2>/dev/null; then
  # The server notices dead clients and ends their threads: bounded wait.
  for _ in $(seq 1 600); do
    th=$(status_of "$SERVER_PID" Threads); so=$(sockets_of "$SERVER_PID")
    [ "$so" -le "$BASE_SOCKETS" ] && [ "$th" -le "$BASE_THREADS" ] && break
    sleep 0.1
  done
  IDLE_RSS=$(status_of "$SERVER_PID" VmRSS)
  echo "after the clients: $th threads (before: $BASE_THREADS), $so sockets (before: $BASE_SOCKETS), RSS $IDLE_RSS kB (before: $BASE_RSS kB)"
  [ "$so" -le "$BASE_SOCKETS" ] || fail "server: $so sockets open 60 s after the clients ended (before: $BASE_SOCKETS)"
  [ "$th" -le "$BASE_THREADS" ] || fail "server: $th threads 60 s after the clients ended (before: $BASE_THREADS)"
  SUMS=$(sql "select (select sum(abalance) from pgbench_accounts)||' '||(select sum(tbalance) from pgbench_tellers)||' '||(select sum(bbalance) from pgbench_branches)||' '||(select coalesce(sum(delta),0) from pgbench_history)||' '||(select count(*) from pgbench_history)") ||
    fail "server: the balance query failed"
  read -r sa st sb sh nh <<<"$SUMS"
  echo "pgbench balances: accounts $sa tellers $st branches $sb history $sh ($nh history rows)"
  [ -n "$sa" ] && [ "$sa" = "$st" ] && [ "$st" = "$sb" ] && [ "$sb" = "$sh" ] || fail "pgbench: the balance sums differ: $SUMS"
  KILLED=$(sql "select count(*) from soak_killed") || fail "server: select from soak_killed failed"
  [ "$KILLED" = 0 ] || fail "server: soak_killed holds $KILLED rows written by killed clients"
  LEFT=$(sql "select count(*) from pg_class where relname like 'soak_p%'")
  echo "tables left by the clients: ${LEFT:-?} (steps cut short by the deadline may leave one each)"
fi

# ---- memory ------------------------------------------------------------------------
echo
echo "== server memory (VmRSS, MiB; samples every ${SOAK_SAMPLE_SECONDS} s in $D/rss.tsv)"
awk -F'\t' -v total="$ELAPSED" -v warm="$SOAK_WARMUP_PCT" -v tol="$SOAK_RSS_TOLERANCE_MB" '
  BEGIN { n = 0; maxth = 0; maxso = 0 }
  NR == 1 { next }
  { t[n] = $1; r[n] = $2 / 1024; th[n] = $3; so[n] = $4; n++ }
  function med(a, k,   i, j, x) {  # median of a[0..k-1]
    for (i = 1; i < k; i++) { x = a[i]; for (j = i - 1; j >= 0 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
    return k ? (k % 2 ? a[int(k / 2)] : (a[k / 2 - 1] + a[k / 2]) / 2) : 0
  }
  END {
    if (n < 6) { print "too few samples to judge growth"; print "VERDICT_MEM FAIL"; exit }
    w = total * warm / 100
    for (i = 0; i < n; i++) {
      third = t[i] < total / 3 ? 0 : (t[i] < 2 * total / 3 ? 1 : 2)
      if (r[i] > mx[third]) mx[third] = r[i]
      if (mn[third] == "" || r[i] < mn[third]) mn[third] = r[i]
      v[third, c[third]++] = r[i]
      if (th[i] > maxth) maxth = th[i]
      if (so[i] > maxso) maxso = so[i]
      if (t[i] >= w) { sx += t[i]; sy += r[i]; sxx += t[i] * t[i]; sxy += t[i] * r[i]; m++ }
    }
    for (k = 0; k < 3; k++) { delete a; for (i = 0; i < c[k]; i++) a[i] = v[k, i]; md[k] = med(a, c[k]) }
    printf "start %.1f, warm-up ends at %d s; peak threads %d, peak sockets %d\n", r[0], w, maxth, maxso
    split("first middle last", nm, " ")
    for (k = 0; k < 3; k++)
      printf "%-6s third: min %7.1f  median %7.1f  max %7.1f  (%d samples)\n", nm[k + 1], mn[k], md[k], mx[k], c[k]
    slope = (m > 1 && m * sxx - sx * sx) ? (m * sxy - sx * sy) / (m * sxx - sx * sx) * 60 : 0
    printf "trend after the warm-up: %+.2f MiB/min (least squares); last - middle: max %+.1f, median %+.1f MiB (limit %d)\n", slope, mx[2] - mx[1], md[2] - md[1], tol
    print ((mx[2] - mx[1] <= tol) ? "VERDICT_MEM ok" : "VERDICT_MEM FAIL")
  }' "$D/rss.tsv" | tee "$D/mem.txt" | grep -v '^VERDICT_MEM'
grep -q '^VERDICT_MEM ok' "$D/mem.txt" || fail "memory: RSS grew by more than $SOAK_RSS_TOLERANCE_MB MiB from the middle to the last third of the run"

# ---- shutdown and sanitizer reports ---------------------------------------------------
echo
echo "== shutdown"
stop_server server || fail "server: unclean shutdown or sanitizer report (above)"

# Restart on the same data: recovery under the sanitizers, same answers.
if [ -n "${SUMS:-}" ]; then
  start_server restart
  S2=$(sql "select (select sum(abalance) from pgbench_accounts)||' '||(select sum(tbalance) from pgbench_tellers)||' '||(select sum(bbalance) from pgbench_branches)||' '||(select coalesce(sum(delta),0) from pgbench_history)||' '||(select count(*) from pgbench_history)")
  K2=$(sql "select count(*) from soak_killed")
  echo "after a restart: balances $S2, soak_killed $K2"
  [ "$S2" = "$SUMS" ] || fail "restart: the balances read '$S2', before the restart '$SUMS'"
  [ "$K2" = 0 ] || fail "restart: soak_killed holds $K2 rows"
  stop_server restart || fail "restart: unclean shutdown or sanitizer report (above)"
fi

echo
if [ -s "$D/failures" ]; then
  echo "== SOAK FAILED ($D kept)"
  sed 's/^/  /' "$D/failures"
  exit 1
fi
echo "== SOAK PASSED: $ELAPSED s of clients, no unexpected error, no sanitizer report, exit status 0, RSS within the limit"
[ "${SOAK_KEEP:-0}" = 1 ] || rm -rf "$D"
exit 0
