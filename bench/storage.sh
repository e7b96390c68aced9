#!/usr/bin/env bash
# bench/storage.sh - the storage module against RocksDB's db_bench, with the
# same workloads and parameters, in the same run (`make bench-storage`).
#
# Environment:
#   BUILD        build directory (default: build/ beside this script's
#                parent), holding bin/datacave-bench-storage and modules/
#   MODULE       the storage module (default: $BUILD/modules/lsm.so, else
#                $BUILD/modules/memory.so)
#   NUM          keys (default 1000000)
#   SYNC_WRITES  fillsync writes per thread (default NUM/200, at least 100;
#                db_bench's fillsync does --writes per thread over a key
#                space of num/1000, so both get --writes=SYNC_WRITES)
#   BENCH_DIR    scratch directory for both databases
#                (default /tmp/datacave-bench-storage; wiped)
#   STRICT=1     exit 1 when a target is missed
#   SYNC_SCALE   the 4-thread/1-thread fillsync ratio counted as "well
#                above" (default 2)
#   ENC_ROUNDS   rounds of the encryption cost runs (default 3)
#   ENCRYPTION_ONLY=1  run only the encryption cost part (no db_bench)
#
# What runs, for each engine (same flags for both):
#   1. fillseq,fillrandom,overwrite,readrandom,readseq,seekrandom in one
#      process on one db (the db_bench sequence: the reads run on the db
#      that fillrandom + overwrite left), sync=0, one thread;
#      then a full compaction (ours: --compact=1; db_bench: its `compact`
#      benchmark) and the on-disk size of the directory;
#   2. fillsync (sync=1) with 4 threads, then with 1 thread.
# The table shows ops/sec of both, datacave/rocksdb, and the targets:
# fillrandom, readrandom >= 1.0x; fillseq, overwrite, readseq,
# seekrandom >= 0.7x; fillsync: 4 threads well above 1 thread (group
# commit; the verdict uses >= 2x); on-disk size after full compaction
# <= 1.5x the live data.
#
# Then the cost of encryption at rest: fillrandom,readrandom (same flags,
# sync=0, one thread) with [modules] encryption = "none" and "aes-gcm",
# alternating, ENC_ROUNDS times each (the machine may be shared and noisy:
# every round is printed, then the best and the median ops/sec and the
# median CPU time per op of each variant).  Cost = 1 - aes-gcm/none ops/sec
# (the verdict uses the medians); target: under 15% for both.
set -u

here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$here/../build}
[ -d "$BUILD" ] && BUILD=$(cd "$BUILD" && pwd)
BIN=$BUILD/bin/datacave-bench-storage
if [ ! -f "$BIN" ] || [ ! -x "$BIN" ]; then
    echo "bench/storage.sh: $BIN is missing: build it first" \
         "(make $BUILD/bin/datacave-bench-storage, or make bench-storage)" >&2
    exit 1
fi
if [ -z "${MODULE:-}" ]; then
    if [ -f "$BUILD/modules/lsm.so" ]; then
        MODULE=$BUILD/modules/lsm.so
    else
        MODULE=$BUILD/modules/memory.so
        echo "bench/storage.sh: note: $BUILD/modules/lsm.so is missing;" \
             "measuring the memory module (not durable) instead" >&2
    fi
fi
if [ ! -f "$MODULE" ]; then
    echo "bench/storage.sh: module $MODULE is missing" >&2
    exit 1
fi

ENCRYPTION_ONLY=${ENCRYPTION_ONLY:-0}
if [ "$ENCRYPTION_ONLY" != 1 ] && ! command -v db_bench >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bench/storage.sh: db_bench is missing; installing rocksdb-tools" \
             "with apt-get (running as root)" >&2
        apt-get install -y rocksdb-tools >/dev/null ||
            { apt-get update >/dev/null && apt-get install -y rocksdb-tools >/dev/null; } ||
            { echo "bench/storage.sh: apt-get install rocksdb-tools failed" >&2; exit 1; }
    else
        echo "bench/storage.sh: db_bench is missing: install rocksdb-tools" \
             "(as root: apt-get install -y rocksdb-tools)" >&2
        exit 1
    fi
fi

NUM=${NUM:-1000000}
SYNC_WRITES=${SYNC_WRITES:-$((NUM / 200))}
[ "$SYNC_WRITES" -lt 100 ] && SYNC_WRITES=100
DIR=${BENCH_DIR:-/tmp/datacave-bench-storage}
rm -rf "$DIR"
mkdir -p "$DIR/logs"
DC_DB=$DIR/datacave
RX_DB=$DIR/rocksdb
LOGS=$DIR/logs
failed=0

COMMON=(--num="$NUM" --key_size=16 --value_size=100 --compression_type=zstd
        --compression_ratio=0.5 --seek_nexts=1 --seed=301)
SEQUENCE=fillseq,fillrandom,overwrite,readrandom,readseq,seekrandom

# run NAME LOGFILE CMD... : runs and echoes the result lines.
run() {
    local name=$1 log=$2
    shift 2
    echo "== $name: $*" >"$log"
    if ! "$@" >>"$log" 2>"$log.err"; then
        echo "bench/storage.sh: $name failed (see $log, $log.err):" >&2
        tail -5 "$log.err" >&2
        failed=1
    fi
    grep -E '^[a-z0-9]+ +: ' "$log" | sed "s/^/  [$name] /"
}

# ops LOGFILE BENCH : ops/sec of BENCH in LOGFILE (empty when absent).
ops() {
    awk -v b="$2" '$1 == b && $2 == ":" {
        for (i = 3; i <= NF; i++) if ($i == "ops/sec") { print $(i - 1); exit } }' "$1"
}

echo "Storage benchmark: datacave module $(basename "$MODULE") ($MODULE)"
echo "  vs RocksDB db_bench $(dpkg-query -W -f='${Version}' rocksdb-tools 2>/dev/null || echo '?')"
echo "  NUM=$NUM key_size=16 value_size=100 compression=zstd; fillsync: $SYNC_WRITES writes/thread"
echo "  machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "  scratch: $DIR ($(df -h "$DIR" | awk 'NR==2 {print $1}'), logs in $LOGS)"
echo

# encryption_cost: the encryption part (see the top); 1 when a target is
# missed or nothing could be measured.
encryption_cost() {
    local rounds=${ENC_ROUNDS:-3} r e log b
    echo "-- encryption cost: fillrandom,readrandom, none vs aes-gcm, $rounds rounds each (sync=0, 1 thread)"
    if [ "$(basename "$MODULE")" != lsm.so ] ||
       [ ! -f "$(dirname "$MODULE")/aes-gcm.so" ]; then
        echo "  skipped: needs lsm.so and aes-gcm.so in $(dirname "$MODULE")"
        return 0
    fi
    for ((r = 1; r <= rounds; r++)); do
        for e in none aes-gcm; do
            log="$LOGS/enc-$e-$r.log"
            rm -rf "$DC_DB"
            run "$e#$r" "$log" "$BIN" --module="$MODULE" --db="$DC_DB" \
                "${COMMON[@]}" --benchmarks=fillrandom,readrandom --sync=0 \
                --threads=1 --encryption="$e"
        done
    done
    rm -rf "$DC_DB"
    local miss=0
    printf '%-12s %-8s %12s %12s %8s %8s %10s  %s\n' workload "" "ops/s best" "ops/s med" "cpu us/op" "" cost "verdict (target < 15%)"
    for b in fillrandom readrandom; do
        local vals=""
        for e in none aes-gcm; do
            for ((r = 1; r <= rounds; r++)); do
                log="$LOGS/enc-$e-$r.log"
                vals="$vals $e:$(ops "$log" "$b"):$(awk -v b="$b" '$1 == "cpu" && $3 == b { print $6 }' "$log")"
            done
        done
        awk -v b="$b" -v vals="$vals" '
        function med(a, n,   i, j, t) {
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
            return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
        BEGIN {
            n = split(vals, v, " ")
            for (i = 1; i <= n; i++) {
                split(v[i], f, ":")
                if (f[2] == "" || f[3] == "") continue
                k = ++cnt[f[1]]; o[f[1], k] = f[2] + 0; c[f[1], k] = f[3] + 0
                if (f[2] + 0 > best[f[1]]) best[f[1]] = f[2] + 0
            }
            if (!cnt["none"] || !cnt["aes-gcm"]) { printf "%-12s no result\n", b; exit 1 }
            for (e in cnt) {
                for (k = 1; k <= cnt[e]; k++) { x[k] = o[e, k]; y[k] = c[e, k] }
                mo[e] = med(x, cnt[e]); mc[e] = med(y, cnt[e])
            }
            printf "%-12s %-8s %12d %12d %8.3f\n", b, "none", best["none"], mo["none"], mc["none"]
            printf "%-12s %-8s %12d %12d %8.3f\n", "", "aes-gcm", best["aes-gcm"], mo["aes-gcm"], mc["aes-gcm"]
            cb = 1 - best["aes-gcm"] / best["none"]; cm = 1 - mo["aes-gcm"] / mo["none"]
            cc = mc["aes-gcm"] / mc["none"] - 1
            printf "%-12s %-8s %12s %12s %8s %8s %9.1f%%  (best ops/s)\n", "", "", "", "", "", "cost", 100 * cb
            printf "%-12s %-8s %12s %12s %8s %8s %9.1f%%  (median ops/s) %s\n", "", "", "", "", "", "", 100 * cm, (cm < 0.15) ? "ok" : "ABOVE TARGET"
            printf "%-12s %-8s %12s %12s %8s %8s %9.1f%%  (median cpu/op)\n", "", "", "", "", "", "", 100 * cc
            exit (cm < 0.15) ? 0 : 1 }' || miss=1
    done
    echo "  ($rounds rounds each, alternating; the verdict uses the median ops/sec;"
    echo "   cpu: CPU time of the process per op, background work included; logs $LOGS/enc-*.log)"
    return $miss
}

if [ "$ENCRYPTION_ONLY" = 1 ]; then
    echo "Storage benchmark: encryption cost, module $(basename "$MODULE") ($MODULE)"
    echo "  NUM=$NUM key_size=16 value_size=100 compression=zstd"
    echo "  machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo
    encryption_cost
    rc=$?
    [ "$failed" = 1 ] && exit 1
    [ "${STRICT:-0}" = 1 ] && [ $rc != 0 ] && exit 1
    exit 0
fi

echo "-- sequence $SEQUENCE (sync=0, 1 thread), then full compaction"
run datacave "$LOGS/dc-seq.log" "$BIN" --module="$MODULE" --db="$DC_DB" \
    "${COMMON[@]}" --benchmarks="$SEQUENCE" --sync=0 --threads=1 --compact=1 --stats=1
field() { # LOGFILE KEY : KEY=value of the "size" line
    awk -v k="$2" '$1 == "size" { for (i = 3; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }' "$1"
}
dc_du=$(field "$LOGS/dc-seq.log" on_disk)
dc_live=$(field "$LOGS/dc-seq.log" live)
rm -rf "$DC_DB"
run rocksdb "$LOGS/rx-seq.log" db_bench --db="$RX_DB" "${COMMON[@]}" \
    --benchmarks="$SEQUENCE,compact" --sync=0 --threads=1
rx_du=$(du -sB1 "$RX_DB" 2>/dev/null | awk '{print $1}')
rm -rf "$RX_DB"

echo "-- fillsync (sync=1), 4 threads then 1 thread, $SYNC_WRITES writes per thread"
for t in 4 1; do
    run datacave "$LOGS/dc-sync$t.log" "$BIN" --module="$MODULE" --db="$DC_DB" \
        "${COMMON[@]}" --benchmarks=fillsync --sync=1 --threads=$t --writes="$SYNC_WRITES"
    rm -rf "$DC_DB"
    run rocksdb "$LOGS/rx-sync$t.log" db_bench --db="$RX_DB" "${COMMON[@]}" \
        --benchmarks=fillsync --sync=1 --threads=$t --writes="$SYNC_WRITES"
    rm -rf "$RX_DB"
done
echo

# ---- the table ------------------------------------------------------------------
STRICT=${STRICT:-0}
missed=0
printf '%-18s %14s %14s %8s %8s  %s\n' workload datacave rocksdb ratio target verdict
row() { # name dc rx target
    local name=$1 dc=$2 rx=$3 target=$4
    if [ -z "$dc" ] || [ -z "$rx" ]; then
        local t=">=${target}x"
        [ "$target" = 0 ] && t=-
        printf '%-18s %14s %14s %8s %8s  %s\n' "$name" "${dc:--}" "${rx:--}" - "$t" "no result"
        missed=1
        return
    fi
    awk -v n="$name" -v d="$dc" -v r="$rx" -v t="$target" 'BEGIN {
        ratio = d / r; v = (ratio >= t) ? "ok" : "BELOW TARGET"
        if (t == 0) v = "(see below)"
        printf "%-18s %14d %14d %7.2fx %7s  %s\n", n, d, r, ratio, (t == 0) ? "-" : ">=" t "x", v
        exit (ratio >= t) ? 0 : 1 }' || missed=1
}
for w in fillseq:0.7 fillrandom:1.0 overwrite:0.7 readrandom:1.0 readseq:0.7 seekrandom:0.7; do
    b=${w%%:*}
    row "$b" "$(ops "$LOGS/dc-seq.log" "$b")" "$(ops "$LOGS/rx-seq.log" "$b")" "${w#*:}"
done
dc4=$(ops "$LOGS/dc-sync4.log" fillsync); rx4=$(ops "$LOGS/rx-sync4.log" fillsync)
dc1=$(ops "$LOGS/dc-sync1.log" fillsync); rx1=$(ops "$LOGS/rx-sync1.log" fillsync)
row "fillsync 4 thr" "$dc4" "$rx4" 0
row "fillsync 1 thr" "$dc1" "$rx1" 0
echo
if [ -n "$dc4" ] && [ -n "$dc1" ] && [ -n "$rx4" ] && [ -n "$rx1" ]; then
    awk -v d4="$dc4" -v d1="$dc1" -v r4="$rx4" -v r1="$rx1" -v s="${SYNC_SCALE:-2}" 'BEGIN {
        d = d4 / d1; r = r4 / r1
        printf "fillsync 4 threads / 1 thread: datacave %.2fx, rocksdb %.2fx (target: well above 1x; verdict at >= %sx: %s)\n",
               d, r, s, (d >= s) ? "ok" : "BELOW TARGET"
        exit (d >= s) ? 0 : 1 }' || missed=1
fi
echo "rocksdb after its full compaction: ${rx_du:-?} bytes on disk${dc_live:+ (live data per the datacave scan: $dc_live bytes)}"
if [ "$dc_du" = 0 ]; then
    echo "after full compaction: the module keeps nothing on disk ($(basename "$MODULE")): size target not applicable"
elif [ -n "$dc_du" ] && [ -n "$dc_live" ] && [ "$dc_live" -gt 0 ]; then
    awk -v du="$dc_du" -v live="$dc_live" -v rx="${rx_du:-0}" -v num="$NUM" 'BEGIN {
        r = du / live
        printf "after full compaction: datacave %d bytes on disk, live data %d bytes: %.2fx (target <= 1.5x: %s)\n",
               du, live, r, (r <= 1.5) ? "ok" : "BELOW TARGET"
        printf "  (num*(key+value) = %d bytes; rocksdb after its compact: %d bytes, %.2fx of the same live data)\n",
               num * 116, rx, rx / live
        exit (r <= 1.5) ? 0 : 1 }' || missed=1
else
    echo "after full compaction: no size from datacave (see $LOGS/dc-seq.log)"
    missed=1
fi

echo
encryption_cost || missed=1

[ "$failed" = 1 ] && exit 1
[ "$STRICT" = 1 ] && [ "$missed" = 1 ] && exit 1
exit 0
