#!/usr/bin/env bash
# bench/server.sh - Datacave's server against PostgreSQL 15 under pgbench,
# side by side in the same run (`make bench-server`).
#
# Starts a throwaway PostgreSQL 15 cluster (initdb defaults, fsync on,
# TCP on 127.0.0.1) and a Datacave server (pgwire + sql + lsm, WAL synced at
# every commit, TCP on 127.0.0.1), loads both with `pgbench -i -s SCALE`
# (client-side COPY), then runs each workload against each server in turn
# with the same clients, threads and duration, and prints tps, average
# latency and the Datacave/PostgreSQL ratio, the load time ratio and each
# server's peak resident memory.  Both servers run for the whole benchmark
# and their runs alternate workload by workload (the first server of each
# round alternating too), so a slow minute of the machine - its disk's
# fsync latency drifts over minutes - falls on both and not on one.
#
# Environment:
#   BUILD       build directory (default: build/ beside bench/)
#   BENCH_DIR   scratch directory (default /tmp/datacave-bench-server; wiped)
#   SCALE       pgbench scale factor (default 10: 1,000,000 accounts)
#   DURATION    seconds per run (default 30)
#   CLIENTS     pgbench -c (default 8); THREADS pgbench -j (default 2)
#   WORKLOADS   space-separated list of NAME:ARGS (default: -S, -N and the
#               tpcb-like script in -M simple, extended and prepared)
#   INIT_STEPS  pgbench -I steps of the load (default dtgvp: client-side
#               COPY; dtGvp generates the rows in the server)
#   SERVERS     "datacave postgres" (default) or one of them
#   EXTRA_SCALE a second, larger scale (e.g. 100) at which the -S prepared
#               point lookups and a full-table aggregate are timed on both
#               servers (default: none)
#   ROUNDS      runs of each workload on each server (default 1); the
#               reported tps and latency are the medians
#   STRICT=1    exit 1 when a target is missed
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$here/../build}
BUILD=$(cd "$BUILD" && pwd)
DC=$BUILD/bin/datacave
BENCH_DIR=${BENCH_DIR:-/tmp/datacave-bench-server}
SCALE=${SCALE:-10}
DURATION=${DURATION:-30}
CLIENTS=${CLIENTS:-8}
THREADS=${THREADS:-2}
INIT_STEPS=${INIT_STEPS:-dtgvp}
SERVERS=${SERVERS:-datacave postgres}
EXTRA_SCALE=${EXTRA_SCALE:-}
STRICT=${STRICT:-0}
ROUNDS=${ROUNDS:-1}
PGBIN=/usr/lib/postgresql/15/bin
DC_PORT=${DC_PORT:-5497}
PG_PORT=${PG_PORT:-5498}
DEFAULT_WORKLOADS="S-simple:-S:-Msimple S-extended:-S:-Mextended S-prepared:-S:-Mprepared
N-simple:-N:-Msimple N-extended:-N:-Mextended N-prepared:-N:-Mprepared
tpcb-simple::-Msimple tpcb-extended::-Mextended tpcb-prepared::-Mprepared"
WORKLOADS=${WORKLOADS:-$DEFAULT_WORKLOADS}

[ -x "$DC" ] || { echo "bench/server.sh: $DC is missing (make all)" >&2; exit 1; }
[ -x "$PGBIN/initdb" ] || { echo "bench/server.sh: PostgreSQL 15 is not installed ($PGBIN)" >&2; exit 1; }
command -v pgbench >/dev/null || { echo "bench/server.sh: pgbench is missing" >&2; exit 1; }

rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR/pg" "$BENCH_DIR/dc" "$BENCH_DIR/logs"
chmod 755 "$BENCH_DIR"
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -c "$*"; else sh -c "$*"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$BENCH_DIR/pg"

DC_PID=""
PG_STARTED=0
cleanup() {
  [ -n "$DC_PID" ] && kill "$DC_PID" 2>/dev/null && wait "$DC_PID" 2>/dev/null
  [ "$PG_STARTED" = 1 ] && as_pg "$PGBIN/pg_ctl -D $BENCH_DIR/pg/data -m fast stop >/dev/null"
  [ -n "${KEEP:-}" ] || rm -rf "$BENCH_DIR/pg/data" "$BENCH_DIR/dc/data"
}
trap cleanup EXIT

start_pg() {
  as_pg "$PGBIN/initdb -D $BENCH_DIR/pg/data -A trust -U postgres >/dev/null" || exit 1
  as_pg "$PGBIN/pg_ctl -D $BENCH_DIR/pg/data -o '-c listen_addresses=127.0.0.1 -p $PG_PORT -k $BENCH_DIR/pg' -l $BENCH_DIR/pg/postgres.log -w start >/dev/null" || exit 1
  PG_STARTED=1
}
pg_pid() { head -n 1 "$BENCH_DIR/pg/data/postmaster.pid"; }

start_dc() {
  cat > "$BENCH_DIR/dc/config.toml" <<CFG
[server]
listen_addr = "127.0.0.1:$DC_PORT"
module_dir = "$BUILD/modules"
max_connections = 100
[log]
level = "warn"
[storage]
data_dir = "$BENCH_DIR/dc/data"
[modules]
protocol = "pgwire"
sql = "sql"
storage = "lsm"
auth = "password"
encryption = "none"
metrics = ""
[module.password]
method = "trust"
[[security.auth.roles]]
name = "admin"
can_read = true
can_write = true
is_admin = true
[[security.auth.users]]
username = "postgres"
password_plain = "unused"
roles = ["admin"]
CFG
  "$DC" serve --config "$BENCH_DIR/dc/config.toml" >"$BENCH_DIR/logs/datacave.log" 2>&1 &
  DC_PID=$!
  for _ in $(seq 1 150); do
    pg_isready -q -h 127.0.0.1 -p "$DC_PORT" -t 1 && return 0
    kill -0 "$DC_PID" 2>/dev/null || break
    sleep 0.2
  done
  echo "bench/server.sh: the Datacave server did not start:" >&2
  cat "$BENCH_DIR/logs/datacave.log" >&2
  exit 1
}

# Peak resident memory of a process tree (VmHWM of the process and its
# children, in MiB; PostgreSQL runs one process per connection, so its
# figure is the sum of the peaks, an upper bound).
peak_mib() {
  local root=$1 total=0 p kb
  for p in $root $(pgrep -P "$root" 2>/dev/null); do
    kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null)
    [ -n "$kb" ] && total=$((total + kb))
  done
  echo $((total / 1024))
}

port_of() { if [ "$1" = datacave ]; then echo "$DC_PORT"; else echo "$PG_PORT"; fi; }
conn() { echo "-h 127.0.0.1 -p $(port_of "$1") -U postgres"; }
dbname() { if [ "$1" = datacave ]; then echo default; else echo postgres; fi; }
sql() { psql -X -q -t -A $(conn "$1") -d "$(dbname "$1")" -v ON_ERROR_STOP=1 -c "$2"; }

# The four balance sums (accounts, tellers, branches, history).
sums() {
  sql "$1" "select (select sum(abalance) from pgbench_accounts)||' '||(select sum(tbalance) from pgbench_tellers)||' '||(select sum(bbalance) from pgbench_branches)||' '||(select coalesce(sum(delta),0) from pgbench_history)"
}
# check_sums SERVER BEFORE AFTER KIND: no update lost.  The tpcb-like script
# adds each delta to an account, a teller, a branch and the history, so all
# four sums move by the same amount; -N (simple-update) skips tellers and
# branches, so accounts and history move together and the others stay.
check_sums() {
  local b=($2) a=($3) da db dt dh
  da=$((a[0] - b[0])); dt=$((a[1] - b[1])); db=$((a[2] - b[2])); dh=$((a[3] - b[3]))
  if [ "$4" = "-N" ]; then
    [ $da = $dh ] && [ $dt = 0 ] && [ $db = 0 ] && return 0
  else
    [ $da = $dh ] && [ $dt = $dh ] && [ $db = $dh ] && return 0
  fi
  echo "$1: balance sums moved apart: accounts $da tellers $dt branches $db history $dh"
  return 1
}

declare -A TPS LAT LOAD PEAK FAILED RUNS_TPS RUNS_LAT
fail=0
# The median of numbers given as arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

for srv in $SERVERS; do
  case $srv in
    datacave) start_dc ;;
    postgres) start_pg ;;
    *) echo "bench/server.sh: unknown server $srv" >&2; exit 1 ;;
  esac
done
for srv in $SERVERS; do
  t0=$(date +%s.%N)
  if ! pgbench -i -q -s "$SCALE" -I "$INIT_STEPS" $(conn $srv) "$(dbname $srv)" >"$BENCH_DIR/logs/$srv-init.log" 2>&1; then
    echo "$srv: pgbench -i failed:"; cat "$BENCH_DIR/logs/$srv-init.log"; exit 1
  fi
  t1=$(date +%s.%N)
  LOAD[$srv]=$(echo "$t1 - $t0" | bc)
  echo "$srv: pgbench -i -s $SCALE -I $INIT_STEPS: ${LOAD[$srv]} s"
  # Let background work of the load settle before measuring (not timed):
  # Datacave's VACUUM waits until the rows of the table the primary key
  # step rewrote are removed.
  sql $srv "vacuum" >/dev/null
done

# run_one SERVER NAME A1 A2 ROUND: one pgbench run, its sums checked.
run_one() {
  local srv=$1 name=$2 a1=$3 a2=$4 r=$5 log before rc t l f
  log="$BENCH_DIR/logs/$srv-$name-$r.log"
  [ "$a1" != "-S" ] && before=$(sums $srv)
  pgbench -n $a1 $a2 -c "$CLIENTS" -j "$THREADS" -T "$DURATION" $(conn $srv) "$(dbname $srv)" >"$log" 2>&1
  rc=$?
  t=$(awk '/^tps = / {print $3}' "$log")
  l=$(awk '/^latency average/ {print $4}' "$log")
  f=$(awk '/number of failed transactions/ {print $5}' "$log")
  if [ $rc != 0 ] || [ -z "$t" ]; then
    echo "$srv $name: pgbench failed (exit $rc):"; tail -n 5 "$log"; fail=1
    t=0; l=0
  fi
  [ -n "$f" ] && [ "$f" != 0 ] && FAILED[$srv,$name]=$f
  if [ "$a1" != "-S" ]; then check_sums $srv "$before" "$(sums $srv)" "$a1" || fail=1; fi
  RUNS_TPS[$srv,$name]="${RUNS_TPS[$srv,$name]:-} $t"
  RUNS_LAT[$srv,$name]="${RUNS_LAT[$srv,$name]:-} $l"
  printf '%s %-14s tps %10.1f  latency %7s ms  failed %s\n' "$srv" "$name" "$t" "$l" "${f:-0}"
}

order=($SERVERS)
k=0
for w in $WORKLOADS; do
  name=${w%%:*}; rest=${w#*:}; a1=${rest%%:*}; a2=${rest#*:}
  for r in $(seq 1 "$ROUNDS"); do
    # Alternate which server goes first.
    if [ $((k % 2)) = 0 ]; then servers="${order[*]}"; else servers=$(printf '%s\n' "${order[@]}" | tac | tr '\n' ' '); fi
    k=$((k + 1))
    for srv in $servers; do run_one $srv "$name" "$a1" "$a2" "$r"; done
  done
  for srv in $SERVERS; do
    TPS[$srv,$name]=$(median ${RUNS_TPS[$srv,$name]})
    LAT[$srv,$name]=$(median ${RUNS_LAT[$srv,$name]})
  done
done
for srv in $SERVERS; do
  if [ "$srv" = datacave ]; then PEAK[$srv]=$(peak_mib "$DC_PID"); else PEAK[$srv]=$(peak_mib "$(pg_pid)"); fi
done
if [ -n "$EXTRA_SCALE" ]; then
  for srv in $SERVERS; do
    for sc in $SCALE $EXTRA_SCALE; do
      if [ "$sc" != "$SCALE" ]; then
        t0=$(date +%s.%N)
        pgbench -i -q -s "$sc" -I "$INIT_STEPS" $(conn $srv) "$(dbname $srv)" >"$BENCH_DIR/logs/$srv-init-$sc.log" 2>&1 ||
          { echo "$srv: pgbench -i -s $sc failed"; cat "$BENCH_DIR/logs/$srv-init-$sc.log"; exit 1; }
        t1=$(date +%s.%N)
        echo "$srv: pgbench -i -s $sc: $(echo "$t1 - $t0" | bc) s"
        # Settle (not timed) so that the lookups meet each server's
        # steady state after a load, not its background work: PostgreSQL's
        # VACUUM; Datacave's VACUUM FULL, which waits for the running
        # compaction and compacts the store (as its background compactions
        # would, over the next minutes).
        if [ "$srv" = datacave ]; then sql $srv "vacuum full" >/dev/null; else sql $srv "vacuum" >/dev/null; fi
      fi
      log="$BENCH_DIR/logs/$srv-S-$sc.log"
      pgbench -n -S -M prepared -c "$CLIENTS" -j "$THREADS" -T "$DURATION" $(conn $srv) "$(dbname $srv)" >"$log" 2>&1
      LAT[$srv,scale$sc]=$(awk '/^latency average/ {print $4}' "$log")
      TPS[$srv,scale$sc]=$(awk '/^tps = / {print $3}' "$log")
      t0=$(date +%s.%N)
      sql $srv "select count(*), sum(abalance), avg(aid) from pgbench_accounts" >/dev/null
      t1=$(date +%s.%N)
      TPS[$srv,agg$sc]=$(echo "$t1 - $t0" | bc)
      echo "$srv scale $sc: -S prepared latency ${LAT[$srv,scale$sc]} ms (tps ${TPS[$srv,scale$sc]}); full-table aggregate ${TPS[$srv,agg$sc]} s"
    done
  done
fi

case " $SERVERS " in *" datacave "*) ;; *) exit $fail ;; esac
case " $SERVERS " in *" postgres "*) ;; *) exit $fail ;; esac

ratio() { echo "scale=2; if ($2 == 0) 0 else $1 / $2" | bc; }
echo
echo "Datacave / PostgreSQL 15, scale $SCALE, -c $CLIENTS -j $THREADS -T $DURATION, $(nproc) CPUs"
printf '%-16s %12s %12s %8s %8s  %s\n' workload datacave_tps postgres_tps ratio target verdict
for w in $WORKLOADS; do
  name=${w%%:*}
  case $name in S-*) target=1.0 ;; *) target=1.5 ;; esac
  r=$(ratio "${TPS[datacave,$name]}" "${TPS[postgres,$name]}")
  v=ok; [ "$(echo "$r < $target" | bc)" = 1 ] && { v=MISSED; [ "$STRICT" = 1 ] && fail=1; }
  printf '%-16s %12.1f %12.1f %7sx %7sx  %s\n' "$name" "${TPS[datacave,$name]}" "${TPS[postgres,$name]}" "$r" "$target" "$v"
done
r=$(ratio "${LOAD[postgres]}" "${LOAD[datacave]}")
v=ok; [ "$(echo "$r < 1.5" | bc)" = 1 ] && { v=MISSED; [ "$STRICT" = 1 ] && fail=1; }
printf 'load (-I %s)    datacave %.1f s, postgres %.1f s: %sx faster (target 1.5x) %s\n' "$INIT_STEPS" "${LOAD[datacave]}" "${LOAD[postgres]}" "$r" "$v"
printf 'peak memory     datacave %s MiB, postgres %s MiB (sum over its processes)\n' "${PEAK[datacave]}" "${PEAK[postgres]}"
if [ -n "$EXTRA_SCALE" ]; then
  for sc in $SCALE $EXTRA_SCALE; do
    printf 'scale %-5s     -S prepared latency: datacave %s ms, postgres %s ms; aggregate: datacave %s s, postgres %s s\n' \
      "$sc" "${LAT[datacave,scale$sc]}" "${LAT[postgres,scale$sc]}" "${TPS[datacave,agg$sc]}" "${TPS[postgres,agg$sc]}"
  done
fi
exit $fail
