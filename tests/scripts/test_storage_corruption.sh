#!/usr/bin/env bash
# Corruption test of every durable storage module in $DATACAVE_BUILD/modules
# (every storage module but "memory").
#
# `storage_crash populate` makes a store with SST files (three flushes, so
# several SSTs and manifest edits) and 30 synced batches left in the WAL,
# then exits without closing (a crash).  The clean store must read back
# right (`storage_crash check`, after crash recovery).  Then, each on a fresh
# copy of the clean store, one byte is flipped in:
#   sst-N            the data blocks of each SST file (up to 4)
#   wal-record       a record in the middle of the newest WAL segment with
#                    at least 2 records (not its last record: not a torn tail)
#   wal-header       the header of that segment
#   manifest-record  a record of the newest manifest file that is not its
#                    last one (when it has >= 2 records)
#   manifest-header  the header of the newest manifest file
# and opening + reading everything must fail with an error whose message
# names the corrupted file: no crash (death by a signal), no hang (60 s),
# no success, and never a wrong value returned without an error.
# File names: docs/storage-wal.md (wal-%016llu.log), docs/storage-sstable.md
# (%016llu.sst); the manifest is every file under <store>/manifest/.
#
# CORRUPT_SEED fixes the seed choosing the byte in SST and record payloads.
# CORRUPT_MODULES="a.so ..." tests those files instead of the search.
# No durable module built yet: prints "no durable storage module yet:
# skipped" and passes.
set -u
cd "$(dirname "$0")/../.."

BUILD="${DATACAVE_BUILD:-build}"
TOOL="$BUILD/tests/tools/storage_crash"
HOSTBIN="$BUILD/bin/datacave"
SEED="${CORRUPT_SEED:-$(( (RANDOM << 15 | RANDOM) ))}"
NKEYS=6000

fail() { echo "FAIL: $*" >&2; exit 1; }

[ -x "$HOSTBIN" ] || fail "$HOSTBIN is not built"

modules=()
for so in ${CORRUPT_MODULES:-}; do modules+=("$so"); done
[ -n "${CORRUPT_MODULES:-}" ] || for so in "$BUILD"/modules/*.so; do
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

work="$(mktemp -d /tmp/datacave-corrupt-XXXXXX)"
failures=0
echo "seed $SEED (CORRUPT_SEED to replay), work dir $work"

# newest FILE...: the last of the names sorted (numbers are zero-padded).
newest() { printf '%s\n' "$@" | sort | tail -n 1; }

# run_case MODULE CLEAN CASE RELFILE WHAT
run_case() {
  local so="$1" clean="$2" case="$3" rel="$4" what="$5"
  local dir="$work/$(basename "$so" .so)/$case"
  local base; base="$(basename "$rel")"
  rm -rf "$dir"
  cp -a "$clean" "$dir" || fail "cp -a $clean $dir"
  local cout crc
  cout="$("$TOOL" corrupt --file "$dir/$rel" --what "$what" --seed "$SEED" 2>&1)"
  crc=$?
  if [ $crc -eq 2 ] && [ "$what" = record ]; then
    echo "case $case: skipped: $cout"
    return 0
  fi
  [ $crc -eq 0 ] || { echo "case $case: could not corrupt $rel: $cout" >&2; failures=$((failures + 1)); return 0; }
  local where; where="$(printf '%s\n' "$cout" | tail -n 1)"
  local out rc
  out="$(timeout 60 "$TOOL" check --module "$so" --dir "$dir" --keys $NKEYS 2>&1)"
  rc=$?
  local msg; msg="$(printf '%s\n' "$out" | grep -E '^(ERROR|WRONG|check)' | head -n 1)"
  local verdict=""
  if [ $rc -eq 124 ]; then
    verdict="hung (no answer in 60 s)"
  elif [ $rc -gt 128 ]; then
    verdict="died of signal $((rc - 128))"
  elif [ $rc -eq 0 ]; then
    if [ ! -e "$dir/$rel" ] && [ "${what}" = sst ]; then
      echo "case $case: note: $rel was obsolete (deleted at open), nothing to detect: $where"
      return 0
    fi
    verdict="the corruption was not detected: every value read back right"
  elif [ $rc -eq 11 ]; then
    verdict="returned a wrong answer without an error: $msg"
  elif [ $rc -eq 10 ]; then
    if printf '%s\n' "$msg" | grep -qF -- "$base"; then
      echo "case $case: ok: $where -> $msg"
      return 0
    fi
    verdict="the error does not name the file $base: $msg"
  else
    verdict="check failed to run (status $rc)"
  fi
  echo "case $case: FAILED: $where: $verdict" >&2
  printf '%s\n' "$out" | tail -n 15 | sed 's/^/    /' >&2
  echo "    store kept in $dir" >&2
  failures=$((failures + 1))
}

for so in "${modules[@]}"; do
  name="$(basename "$so" .so)"
  mkdir -p "$work/$name"
  clean="$work/$name/clean"
  echo "module $name ($so)"
  out="$(timeout 120 "$TOOL" populate --module "$so" --dir "$clean" --keys $NKEYS 2>&1)"
  rc=$?
  [ $rc -eq 0 ] || { printf '%s\n' "$out" >&2; fail "module $name: populate failed (status $rc)"; }
  # The clean store (after crash recovery) must read back right.
  cp -a "$clean" "$work/$name/baseline"
  out="$(timeout 60 "$TOOL" check --module "$so" --dir "$work/$name/baseline" --keys $NKEYS 2>&1)"
  rc=$?
  [ $rc -eq 0 ] || { printf '%s\n' "$out" | tail -n 15 >&2; fail "module $name: the uncorrupted store does not read back right (status $rc)"; }
  echo "baseline: $(printf '%s\n' "$out" | grep '^check')"

  listing="$(cd "$clean" && find . -type f | sort | sed 's|^\./||')"
  mapfile -t ssts < <(printf '%s\n' "$listing" | grep -E '(^|/)[0-9]{16}\.sst$')
  mapfile -t wals < <(printf '%s\n' "$listing" | grep -v '^manifest/' | grep -E '(^|/)wal-[0-9]{16}\.log$')
  mapfile -t mans < <(printf '%s\n' "$listing" | grep '^manifest/')
  if [ ${#ssts[@]} -eq 0 ] || [ ${#wals[@]} -eq 0 ] || [ ${#mans[@]} -eq 0 ]; then
    printf '%s\n' "$listing" | sed 's/^/    /' >&2
    fail "module $name: the populated store lacks SST (${#ssts[@]}), WAL (${#wals[@]}) or manifest (${#mans[@]}) files"
  fi

  i=0
  for f in "${ssts[@]}"; do
    [ $i -lt 4 ] || break
    run_case "$so" "$clean" "sst-$i" "$f" sst
    i=$((i + 1))
  done

  # The newest WAL segment holding >= 2 records (the 30 synced batches).
  walf=""
  for f in $(printf '%s\n' "${wals[@]}" | sort -r); do
    if cp "$clean/$f" "$work/$name/probe" && "$TOOL" corrupt --file "$work/$name/probe" --what record >/dev/null 2>&1; then
      walf="$f"; break
    fi
  done
  rm -f "$work/$name/probe"
  if [ -z "$walf" ]; then
    echo "module $name: no WAL segment with 2 records or more (${wals[*]}): the 30 synced batches are not in the WAL" >&2
    failures=$((failures + 1))
  else
    run_case "$so" "$clean" wal-record "$walf" record
    run_case "$so" "$clean" wal-header "$walf" header
  fi

  manf="$(newest "${mans[@]}")"
  run_case "$so" "$clean" manifest-record "$manf" record
  run_case "$so" "$clean" manifest-header "$manf" header
done

if [ $failures -gt 0 ]; then
  fail "$failures corruption case(s) failed (seed $SEED); work dir $work"
fi
rm -rf "$work"
echo "storage corruption test: passed"
