#!/usr/bin/env bash
# SIGKILL crash test of the whole server: `datacave serve` (pgwire + sql +
# lsm, WAL synced at every commit) killed at random moments under
# concurrent clients, restarted, and checked.
#
# CRASH_ROUNDS rounds (default 5; `make crash-test` runs 30) on ONE data
# directory, so each recovery runs on top of the earlier crash states.  The
# first round makes the pgbench tables (`pgbench -i -s 1`) and the tables of
# tests/clients/crash_client.py.  A round, with the server running:
#   1. starts CRASH_CLIENTS (default 3) `crash_client.py run` processes,
#      each committing multi-statement transactions and writing each txid to
#      its own ack file once COMMIT has returned, and `pgbench -n -c 4 -j 2
#      -T 60` (the tpcb-like script);
#   2. polls (bounded) until the clients have acknowledged a random 1..40
#      transactions (and, in the first round and a random half of the
#      others, until pgbench_history has grown), then waits a further
#      random 0..799 ms (where the kill lands is what varies; the outcome
#      must not depend on it);
#   3. SIGKILLs the server; the clients and pgbench see the connection
#      drop and exit (bounded wait; a client that exits for another reason
#      fails the test);
#   4. restarts the server (bounded wait for pg_isready) and runs
#      `crash_client.py verify`: every acknowledged transaction present in
#      full, none in part, counters consistent, no holes, and the four
#      pgbench balance sums equal.
# Every round prints its seed; CRASH_SEED fixes the base seed (round seed =
# CRASH_SEED + round).  The directory of a failed run is kept and named.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"

B="${DATACAVE_BUILD:-$ROOT/build}"
B="$(cd "$B" && pwd)"
DC="$B/bin/datacave"
PY=/usr/bin/python3
CLIENT="$ROOT/tests/clients/crash_client.py"
ROUNDS="${CRASH_ROUNDS:-5}"
NCLIENTS="${CRASH_CLIENTS:-3}"
BASE_SEED="${CRASH_SEED:-$(( (RANDOM << 15 | RANDOM) ))}"

fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$DC" ] || fail "no datacave binary at $DC (make all)"
for m in pgwire sql lsm password; do
  [ -f "$B/modules/$m.so" ] || fail "module $B/modules/$m.so is not built (make all)"
done
for c in pg_isready pgbench psql; do
  command -v "$c" >/dev/null 2>&1 || fail "'$c' is not installed (postgresql-client-15; scripts/deps.sh)"
done
[ -x "$PY" ] || fail "no $PY (Debian's python3)"
"$PY" -c 'import psycopg2' 2>/dev/null ||
  fail "$PY cannot import psycopg2 (python3-psycopg2; scripts/deps.sh installs it)"
[ "$NCLIENTS" -ge 1 ] && [ "$NCLIENTS" -le 99 ] || fail "CRASH_CLIENTS must be 1..99"

work="$(mktemp -d /tmp/datacave-servercrash-XXXXXX)"
SERVER_PID=""
PGB_PID=""
CLIENT_PIDS=()
keep=0
cleanup() {
  local p
  for p in "${CLIENT_PIDS[@]}" $PGB_PID $SERVER_PID; do
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  [ "$keep" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
die() { keep=1; echo "FAIL: $* (data kept in $work; replay: CRASH_SEED=$BASE_SEED)" >&2; show_log; exit 1; }
show_log() {
  [ -f "$work/server.log" ] || return 0
  echo "  --- server log, last lines:" >&2
  tail -n 25 "$work/server.log" | sed 's/^/  | /' >&2
}

port="$("$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')" || fail "could not find a free port"
mkdir -p "$work/acks"
cat >"$work/datacave.toml" <<CFG
[server]
listen_addr = "127.0.0.1:$port"
module_dir = "$B/modules"
max_connections = 100
[log]
level = "warn"
[storage]
data_dir = "$work/data"
[modules]
protocol = "pgwire"
sql = "sql"
storage = "lsm"
auth = "password"
encryption = "none"
metrics = ""
[module.lsm]
sync = "every_commit"
[module.password]
method = "trust"
[[security.auth.roles]]
name = "admin"
can_read = true
can_write = true
is_admin = true
[[security.auth.users]]
username = "crash"
password_plain = "unused"
roles = ["admin"]
CFG
export PGHOST=127.0.0.1 PGPORT="$port" PGUSER=crash PGDATABASE=default PGCONNECT_TIMEOUT=10
unset PGPASSWORD PGSSLMODE PGSSLROOTCERT PGSERVICE PGPASSFILE PGOPTIONS PGAPPNAME

now_ms() { date +%s%3N; }

# start_server: start it and wait (120 s at most: recovery under the
# sanitizer build is slow) until it accepts connections.
start_server() {
  echo "=== start $(date +%T.%3N)" >>"$work/server.log"
  "$DC" serve --config "$work/datacave.toml" >>"$work/server.log" 2>&1 &
  SERVER_PID=$!
  local deadline=$(( $(now_ms) + 120000 ))
  while :; do
    kill -0 "$SERVER_PID" 2>/dev/null || { wait "$SERVER_PID"; local rc=$?; SERVER_PID=""; die "the server exited at start (status $rc)"; }
    pg_isready -q -t 1 2>/dev/null && return 0
    [ "$(now_ms)" -gt "$deadline" ] && die "the server did not accept connections within 120 s"
    sleep 0.1
  done
}

# wait_gone PID SECONDS: until the process has exited; 1 when it had not.
wait_gone() {
  local deadline=$(( $(now_ms) + $2 * 1000 ))
  while kill -0 "$1" 2>/dev/null; do
    [ "$(now_ms)" -gt "$deadline" ] && return 1
    sleep 0.05
  done
  return 0
}

sql1() { timeout 60 psql -X -q -t -A -v ON_ERROR_STOP=1 -c "$1"; }

verify() {
  local out rc
  out="$(timeout 300 "$PY" "$CLIENT" verify --acks-dir "$work/acks" 2>&1)"
  rc=$?
  printf '%s\n' "$out" | tail -n 1
  if [ $rc -ne 0 ]; then
    printf '%s\n' "$out" | tail -n 40 >&2
    return 1
  fi
  return 0
}

echo "server crash test: $ROUNDS rounds, $NCLIENTS clients + pgbench, in $work, base seed $BASE_SEED"
start_server
timeout 600 pgbench -i -s 1 -q >"$work/pgbench-init.log" 2>&1 ||
  { cat "$work/pgbench-init.log" >&2; die "pgbench -i -s 1 failed"; }
timeout 60 "$PY" "$CLIENT" setup --clients "$NCLIENTS" >"$work/setup.log" 2>&1 ||
  { cat "$work/setup.log" >&2; die "crash_client.py setup failed"; }
verify >/dev/null || die "verify failed before any crash"

for ((round = 1; round <= ROUNDS; round++)); do
  seed=$((BASE_SEED + round))
  RANDOM=$seed
  want=$((1 + RANDOM % 40))
  extra_ms=$((RANDOM % 800))
  # Half the rounds (and the first) also wait for pgbench commits; the
  # others may kill earlier, while pgbench is still connecting.
  need_pgb=$(( round == 1 || RANDOM % 2 ))
  hist=""
  hist0="$(sql1 'select count(*) from pgbench_history')" || die "round $round (seed $seed): cannot read pgbench_history"

  CLIENT_PIDS=()
  for ((c = 0; c < NCLIENTS; c++)); do
    "$PY" "$CLIENT" run --client "$c" --round "$round" --seed "$((seed * 100 + c))" \
      --acks "$work/acks/ack.$round.$c" 2>"$work/client.$round.$c.err" &
    CLIENT_PIDS+=($!)
  done
  pgbench -n -c 4 -j 2 -T 60 >"$work/pgbench.$round.log" 2>&1 &
  PGB_PID=$!

  # Until enough acknowledgements and some pgbench commits (60 s at most).
  deadline=$(( $(now_ms) + 60000 ))
  while :; do
    n=$(cat "$work/acks/ack.$round."* 2>/dev/null | wc -l)
    if [ "$n" -ge "$want" ]; then
      [ "$need_pgb" = 0 ] && break
      hist="$(sql1 'select count(*) from pgbench_history' 2>/dev/null)"
      [ -n "$hist" ] && [ "$hist" -gt "$hist0" ] && break
    fi
    for p in "${CLIENT_PIDS[@]}"; do
      kill -0 "$p" 2>/dev/null || { tail -n 5 "$work/client.$round."*.err >&2; die "round $round (seed $seed): a client exited before the kill"; }
    done
    kill -0 "$PGB_PID" 2>/dev/null || { tail -n 20 "$work/pgbench.$round.log" >&2; die "round $round (seed $seed): pgbench exited before the kill"; }
    [ "$(now_ms)" -gt "$deadline" ] &&
      die "round $round (seed $seed): $n of $want acks, pgbench_history ${hist:-?} (from $hist0) after 60 s"
    sleep 0.02
  done
  sleep "$(printf '0.%03d' "$extra_ms")"
  kill -KILL "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  rc=$?
  SERVER_PID=""
  # 137: our SIGKILL ended it (not an abort or exit of its own before).
  [ $rc -eq 137 ] || die "round $round (seed $seed): the server had exited on its own (status $rc) before the kill"

  # The clients and pgbench must notice and exit.
  for i in "${!CLIENT_PIDS[@]}"; do
    p="${CLIENT_PIDS[$i]}"
    wait_gone "$p" 60 || die "round $round (seed $seed): client $i still running 60 s after the kill"
    wait "$p"
    rc=$?
    [ $rc -eq 3 ] || { cat "$work/client.$round.$i.err" >&2; die "round $round (seed $seed): client $i exited with status $rc, not 3 (connection lost)"; }
  done
  CLIENT_PIDS=()
  wait_gone "$PGB_PID" 60 || die "round $round (seed $seed): pgbench still running 60 s after the kill"
  wait "$PGB_PID" 2>/dev/null
  PGB_PID=""
  n=$(cat "$work/acks/ack.$round."* 2>/dev/null | wc -l)

  start_server
  res="$(verify)" || die "round $round (seed $seed): verify failed after the restart"
  pgb=""; [ "$need_pgb" = 1 ] && pgb=" and pgbench commits"
  echo "round $round: seed $seed, killed after $n acks (>= $want$pgb, +${extra_ms} ms): $res"
done

kill -TERM "$SERVER_PID"
wait_gone "$SERVER_PID" 30 || die "the server ignored SIGTERM for 30 s"
wait "$SERVER_PID"
rc=$?
SERVER_PID=""
[ $rc -eq 0 ] || die "the server exited with status $rc on SIGTERM"
echo "server crash test: passed"
