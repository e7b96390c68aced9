#!/usr/bin/env bash
# bench/sql.sh - the sql module in-process against PostgreSQL 15 in the
# same run (`make bench-sql`).  Starts a throwaway PostgreSQL cluster
# (default settings, fsync on, Unix socket only) and a Datacave data
# directory over the lsm engine, then runs datacave-bench-sql on both.
#
# Environment:
#   BUILD      build directory (default: build/ beside bench/)
#   BENCH_DIR  scratch directory (default /tmp/datacave-bench-sql; wiped)
#   SCALE      multiplies every row count (default 1: 1,000,000-row scan,
#              100,000 x 100,000 join)
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$here/../build}
BUILD=$(cd "$BUILD" && pwd)
BIN=$BUILD/bin/datacave-bench-sql
BENCH_DIR=${BENCH_DIR:-/tmp/datacave-bench-sql}
SCALE=${SCALE:-1}
PGBIN=/usr/lib/postgresql/15/bin
[ -x "$BIN" ] || { echo "bench/sql.sh: $BIN is missing (make bench-sql)" >&2; exit 1; }
[ -x "$PGBIN/initdb" ] || { echo "bench/sql.sh: PostgreSQL 15 is not installed ($PGBIN)" >&2; exit 1; }

rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR/pg" "$BENCH_DIR/sock" "$BENCH_DIR/dc"
chown -R postgres "$BENCH_DIR/pg" "$BENCH_DIR/sock" 2>/dev/null
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -c "$*"; else sh -c "$*"; fi; }
as_pg "$PGBIN/initdb -D $BENCH_DIR/pg/data -A trust -U postgres >/dev/null" || exit 1
as_pg "$PGBIN/pg_ctl -D $BENCH_DIR/pg/data -o '-k $BENCH_DIR/sock -c listen_addresses= -p 5499' -l $BENCH_DIR/pg/log -w start >/dev/null" || exit 1
trap 'as_pg "$PGBIN/pg_ctl -D $BENCH_DIR/pg/data -m fast stop >/dev/null"; rm -rf "$BENCH_DIR"' EXIT

cat > "$BENCH_DIR/dc/config.toml" <<CFG
[server]
module_dir = "$BUILD/modules"
[log]
level = "warn"
[storage]
data_dir = "$BENCH_DIR/dc/data"
[modules]
protocol = ""
sql = "sql"
storage = "lsm"
auth = ""
encryption = "none"
metrics = ""
CFG
echo "sql: Datacave (in-process, lsm) against PostgreSQL 15 (in-server loops); scale $SCALE"
"$BIN" --config "$BENCH_DIR/dc/config.toml" \
    --pg "host=$BENCH_DIR/sock port=5499 user=postgres dbname=postgres" \
    --scale "$SCALE"
