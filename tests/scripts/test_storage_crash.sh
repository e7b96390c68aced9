#!/usr/bin/env bash
# SIGKILL crash test of every durable storage module in $DATACAVE_BUILD/modules
# (every storage module but "memory", which is not durable).
#
# Per module, CRASH_ROUNDS rounds (default 12; `make crash-test` runs 200) on
# ONE data directory, so each recovery runs on top of the earlier crash
# states.  A round:
#   1. starts `storage_crash child` (2 writer threads, DC_SYNC_ALWAYS batches)
#      in the background, its "ack <id> <seq>" lines going to a file;
#   2. polls the file (bounded) until at least a random 1..40 batches are
#      acknowledged;
#   3. waits a further random 0..499 ms (from $RANDOM: where the kill lands
#      is what the test varies; the result must not depend on it);
#   4. SIGKILLs the child, appends its acks to the acks of all rounds, and
#      runs `storage_crash verify`: every acknowledged batch present, no
#      batch half present, seqs without holes (see tests/tools/storage_crash.c).
# Every round prints its seed and timings; CRASH_SEED fixes the first seed
# (the round's seed is CRASH_SEED + round).  The directory of a failed round
# is kept and named in the failure.
#
# The lsm module also runs CRASH_ENC_ROUNDS (default 4) rounds on a store of
# its own with encryption at rest (the aes-gcm module beside it, a random
# key: tools/storage_crash.c's CRASH_ENCRYPTION_KEY); after them no file of
# that store may hold the plaintext marker keys ("batch/").
#
# CRASH_MODULES="a.so b.so" tests those files instead.
# No durable module built yet: prints "no durable storage module yet:
# skipped" and passes.
set -u
cd "$(dirname "$0")/../.."

BUILD="${DATACAVE_BUILD:-build}"
ROUNDS="${CRASH_ROUNDS:-12}"
TOOL="$BUILD/tests/tools/storage_crash"
HOSTBIN="$BUILD/bin/datacave"
BASE_SEED="${CRASH_SEED:-$(( (RANDOM << 15 | RANDOM) ))}"

fail() { echo "FAIL: $*" >&2; exit 1; }

[ -x "$HOSTBIN" ] || fail "$HOSTBIN is not built"

modules=()
# CRASH_MODULES (space-separated .so paths) overrides the search (e.g. to
# see the test fail on the non-durable memory module).
for so in ${CRASH_MODULES:-}; do modules+=("$so"); done
[ -n "${CRASH_MODULES:-}" ] || for so in "$BUILD"/modules/*.so; do
  [ -e "$so" ] || continue
  [ "$(basename "$so")" = memory.so ] && continue
  if "$HOSTBIN" modules inspect "$so" 2>/dev/null | head -n 1 | grep -q '(storage module'; then
    modules+=("$so")
  fi
done
if [ ${#modules[@]} -eq 0 ]; then
  echo "no durable storage module yet: skipped"
  exit 0
fi
[ -x "$TOOL" ] || fail "$TOOL is not built (make $TOOL)"

work="$(mktemp -d /tmp/datacave-crash-XXXXXX)"
child=""
cleanup() {
  if [ -n "$child" ]; then kill -KILL "$child" 2>/dev/null; wait "$child" 2>/dev/null; fi
}
trap cleanup EXIT

now_ms() { date +%s%3N; }

# Runs: "module|name|key|rounds"; key empty: no encryption.
runs=()
for so in "${modules[@]}"; do
  runs+=("$so|$(basename "$so" .so)||$ROUNDS")
  if [ "$(basename "$so")" = lsm.so ] && [ -f "$(dirname "$so")/aes-gcm.so" ] &&
     [ "${CRASH_ENC_ROUNDS:-4}" -gt 0 ]; then
    runs+=("$so|lsm-aes-gcm|$(head -c 32 /dev/urandom | base64)|${CRASH_ENC_ROUNDS:-4}")
  fi
done

for run in "${runs[@]}"; do
  IFS='|' read -r so name key ROUNDS <<<"$run"
  if [ -n "$key" ]; then export CRASH_ENCRYPTION_KEY="$key"; else unset CRASH_ENCRYPTION_KEY; fi
  dir="$work/$name/data"
  all_acks="$work/$name/acks.all"
  mkdir -p "$work/$name"
  : >"$all_acks"
  echo "module $name ($so): $ROUNDS rounds in $dir, base seed $BASE_SEED"
  for ((round = 1; round <= ROUNDS; round++)); do
    seed=$((BASE_SEED + round))
    RANDOM=$seed
    want=$((1 + RANDOM % 40))
    extra_ms=$((RANDOM % 500))
    acks="$work/$name/acks.$round"
    errf="$work/$name/child.$round.err"
    : >"$acks"
    t0=$(now_ms)
    # Every other round writes its batches as table files of their own
    # (the lsm engine's bulk path, past the WAL), on the same store.
    if [ $((round % 2)) = 0 ]; then export CRASH_BULK_BYTES=256; else unset CRASH_BULK_BYTES; fi
    "$TOOL" child --module "$so" --dir "$dir" --seed "$seed" --threads 2 \
      --id-base $((round * 1000000000)) >"$acks" 2>"$errf" &
    child=$!
    # Wait (bounded: 30 s) for `want` acknowledgements.
    deadline=$((t0 + 30000))
    while :; do
      n=$(grep -c '^ack .*[0-9]$' "$acks" 2>/dev/null || true)
      [ "${n:-0}" -ge "$want" ] && break
      if ! kill -0 "$child" 2>/dev/null; then
        wait "$child"; rc=$?
        child=""
        fail "module $name round $round (seed $seed): the child exited (status $rc) after $n acks, before $want: $(grep "^ERROR" "$acks") $(tail -n 5 "$errf")"
      fi
      if [ "$(now_ms)" -gt "$deadline" ]; then
        fail "module $name round $round (seed $seed): only $n of $want batches acknowledged in 30 s (store in $dir): $(tail -n 5 "$errf")"
      fi
      sleep 0.01
    done
    # The random extra delay is the variable under test: where the kill
    # lands relative to WAL appends, flushes and compactions.
    sleep "$(printf '0.%03d' "$extra_ms")"
    if ! kill -0 "$child" 2>/dev/null; then
      wait "$child"; rc=$?
      child=""
      fail "module $name round $round (seed $seed): the child exited (status $rc) before the kill: $(tail -n 5 "$errf")"
    fi
    kill -KILL "$child"
    wait "$child" 2>/dev/null
    child=""
    cat "$acks" >>"$all_acks"
    nacked=$(grep -c '^ack .*[0-9]$' "$acks" || true)
    out="$("$TOOL" verify --module "$so" --dir "$dir" --acked "$all_acks" 2>&1)"
    rc=$?
    t1=$(now_ms)
    summary="$(printf '%s\n' "$out" | grep -E '^(verify|VIOLATION)' | head -n 1)"
    echo "round $round: seed $seed, killed after $nacked acks (waited for $want, +${extra_ms} ms), $((t1 - t0)) ms: ${summary:-rc $rc}"
    if [ $rc -ne 0 ]; then
      if [ $rc -gt 128 ]; then
        echo "verify died of signal $((rc - 128))" >&2
      fi
      printf '%s\n' "$out" | tail -n 20 >&2
      fail "module $name round $round (seed $seed, kill $extra_ms ms after $want acks): verify failed (status $rc); store kept in $dir, acks in $all_acks; replay: CRASH_SEED=$BASE_SEED"
    fi
  done
  if [ -n "$key" ]; then
    leaks="$(find "$dir" -type f -print0 | xargs -0 -r grep -l -a -F "batch/" 2>/dev/null)"
    [ -z "$leaks" ] || fail "module $name: plaintext keys in the encrypted store: $leaks"
  fi
  echo "module $name: $ROUNDS crash rounds passed"
done
rm -rf "$work"
echo "storage crash test: passed"
