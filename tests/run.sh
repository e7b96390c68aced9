#!/usr/bin/env bash
# Runs every test: the unit test programs given as arguments, then every
# tests/scripts/test_*.sh.  Prints each result and a closing
# "N passed, N failed" line; exits 1 when anything failed.
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
failures=()
logdir="${DATACAVE_BUILD:-build}/tests/logs"
mkdir -p "$logdir"

run_one() {
  local name="$1"; shift
  local log="$logdir/$(basename "$name").log"
  if "$@" >"$log" 2>&1; then
    echo "PASS $name"
    passed=$((passed + 1))
  else
    echo "FAIL $name (log: $log)"
    tail -n 40 "$log" | sed 's/^/    /'
    failed=$((failed + 1))
    failures+=("$name")
  fi
}

for t in "$@"; do
  run_one "$t" "$t"
done
for s in tests/scripts/test_*.sh; do
  [ -e "$s" ] || continue
  run_one "$s" bash "$s"
done

echo
if [ $failed -gt 0 ]; then
  echo "failed: ${failures[*]}"
fi
echo "tests: $passed passed, $failed failed"
[ $failed -eq 0 ]
