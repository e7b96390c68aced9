#!/usr/bin/env bash
# SIGKILL crash test of SQL transactions: the sql module over the lsm
# engine, in-process (tests/tools/sql_crash.c), killed at random moments.
#
# CRASH_ROUNDS rounds (default 6; `make crash-test` runs more) on ONE data
# directory.  A round starts `sql_crash child` (two sessions committing
# transfer transactions, each printing "ack <id>" once COMMIT returned),
# waits (bounded) for a random 1..30 acknowledgements, waits a further
# random 0..299 ms -- where the kill lands is what varies; the outcome must
# not depend on it -- SIGKILLs it, and runs `sql_crash verify`: every
# acknowledged transaction present, none present in part.
set -u
cd "$(dirname "$0")/../.."

BUILD="${DATACAVE_BUILD:-build}"
ROUNDS="${CRASH_ROUNDS:-6}"
TOOL="$BUILD/tests/tools/sql_crash"
BASE_SEED="${CRASH_SEED:-$(( (RANDOM << 15 | RANDOM) ))}"

fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$TOOL" ] || fail "$TOOL is not built"
[ -f "$BUILD/modules/sql.so" ] || fail "$BUILD/modules/sql.so is not built"
[ -f "$BUILD/modules/lsm.so" ] || fail "$BUILD/modules/lsm.so is not built"

work="$(mktemp -d /tmp/datacave-sqlcrash-XXXXXX)"
child=""
cleanup() {
  if [ -n "$child" ]; then kill -KILL "$child" 2>/dev/null; wait "$child" 2>/dev/null; fi
}
trap cleanup EXIT
cfg="$work/config.toml"
cat >"$cfg" <<CFG
[server]
module_dir = "$(cd "$BUILD" && pwd)/modules"
[log]
level = "warn"
[storage]
data_dir = "$work/data"
[modules]
protocol = ""
sql = "sql"
storage = "lsm"
auth = ""
encryption = "none"
metrics = ""
[module.lsm]
sync = "every_commit"
CFG
all_acks="$work/acks.all"
: >"$all_acks"
now_ms() { date +%s%3N; }
echo "sql crash test: $ROUNDS rounds in $work, base seed $BASE_SEED"
for ((round = 1; round <= ROUNDS; round++)); do
  seed=$((BASE_SEED + round))
  RANDOM=$seed
  want=$((1 + RANDOM % 30))
  extra_ms=$((RANDOM % 300))
  acks="$work/acks.$round"
  errf="$work/child.$round.err"
  "$TOOL" child --config "$cfg" --seed "$seed" >"$acks" 2>"$errf" &
  child=$!
  deadline=$(( $(now_ms) + 60000 ))
  while :; do
    n=$(grep -c '^ack ' "$acks" 2>/dev/null || true)
    [ "${n:-0}" -ge "$want" ] && break
    if ! kill -0 "$child" 2>/dev/null; then
      wait "$child"; rc=$?; child=""
      fail "round $round (seed $seed): the child exited (status $rc) after $n acks: $(tail -n 5 "$errf")"
    fi
    [ "$(now_ms)" -gt "$deadline" ] && fail "round $round (seed $seed): only $n of $want acks in 60 s: $(tail -n 5 "$errf")"
    sleep 0.01
  done
  sleep "$(printf '0.%03d' "$extra_ms")"
  kill -KILL "$child" 2>/dev/null
  wait "$child" 2>/dev/null
  child=""
  grep '^ack ' "$acks" >>"$all_acks"
  out="$("$TOOL" verify --config "$cfg" --acks "$all_acks" 2>&1)"
  rc=$?
  echo "round $round: seed $seed, killed after >= $want acks (+${extra_ms} ms): $(printf '%s\n' "$out" | tail -n 1)"
  if [ $rc -ne 0 ]; then
    printf '%s\n' "$out" | tail -n 20 >&2
    fail "round $round (seed $seed): verify failed; data kept in $work (replay: CRASH_SEED=$BASE_SEED)"
  fi
done
rm -rf "$work"
echo "sql crash test: passed"
