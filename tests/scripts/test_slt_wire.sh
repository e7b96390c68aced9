#!/usr/bin/env bash
# tests/scripts/test_slt_wire.sh - the sqllogictest files through the wire:
# $DATACAVE_BUILD/tests/slt/slt_runner --pg (libpq) against `datacave serve`
# (pgwire, sql, lsm storage, a SCRAM user; tests/clients/lib.sh), the runner
# making a scratch database per file with CREATE DATABASE and dropping it:
#   tests/slt/selftest.test: the runner's verdicts (the records marked
#     "# expect-fail" fail, the others pass; 14 passed, 6 failed, 4 skipped);
#   select1-3 of the corpus ($DATACAVE_SHARED/slt, default ../shared/slt),
#     every record;
#   the evidence files (in1, in2, slt_lang_*) restricted to the records
#     PostgreSQL 15 passes (tests/slt/pg15/<name>.pass).
# CLIENTS_SERVER=postgres runs the same against a throwaway PostgreSQL 15.
# Run by tests/run.sh from the repository root; exits 1 on any failure.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
source "$ROOT/tests/clients/lib.sh"
SLT="${DATACAVE_SHARED:-$ROOT/../shared}/slt"
RUNNER="$B/tests/slt/slt_runner"

failures=0
checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

[ -x "$RUNNER" ] || { echo "FAIL: no runner at $RUNNER (make build/tests/slt/slt_runner)"; exit 1; }
for f in select1 select2 select3 in1 in2; do
  [ -f "$SLT/$f.test" ] || { echo "FAIL: no $SLT/$f.test (set DATACAVE_SHARED)"; exit 1; }
done
evidence=("$SLT/in1.test" "$SLT/in2.test" "$SLT"/slt_lang_*.test)
for f in "${evidence[@]}"; do
  [ -f "$ROOT/tests/slt/pg15/$(basename "$f" .test).pass" ] ||
    { echo "FAIL: no PostgreSQL pass list for $(basename "$f") (run tests/slt/pg15-passing.sh)"; exit 1; }
done

clients_init
clients_start plain lsm || exit 1
CONN="host=$PGHOST port=$PGPORT user=$PGUSER dbname=$PGDATABASE"

# The runner's own verdicts, so a wire path that passes (or fails)
# everything is caught.
SELF="$ROOT/tests/slt/selftest.test"
want_fail="$(awk 'prev == "# expect-fail" { print NR } { prev = $0 }' "$SELF" | sort -n | tr '\n' ' ')"
checks=$((checks + 1))
timeout 300 "$RUNNER" --show 10 --pg "$CONN" "$SELF" >"$CT/self.out" 2>&1
rc=$?
got_fail="$(sed -n 's/^FAIL .*selftest.test:\([0-9]*\):.*/\1/p' "$CT/self.out" | sort -n | tr '\n' ' ')"
counts="$(grep -o '[0-9]* passed, [0-9]* failed, [0-9]* skipped' "$CT/self.out")"
if [ $rc -ne 1 ] || [ "$got_fail" != "$want_fail" ] || [ "$counts" != "14 passed, 6 failed, 4 skipped" ]; then
  fail "selftest over the wire: failed records '$got_fail' (want '$want_fail'), '$counts', status $rc"
  sed 's/^/  | /' "$CT/self.out" | head -n 60
else
  echo "ok: selftest verdicts over the wire"
fi

# run_slt WHAT ARGS...: the runner must pass every record that runs.
run_slt() {
  local what="$1"; shift
  checks=$((checks + 1))
  timeout 1500 "$RUNNER" --show 5 --pg "$CONN" "$@" >"$CT/out" 2>&1
  local rc=$?
  if [ $rc -ne 0 ]; then
    fail "$what: runner status $rc"
    sed 's/^/  | /' "$CT/out" | head -n 80
  else
    echo "ok: $what"
    grep -E 'passed' "$CT/out" | sed 's/^/    /'
  fi
}
run_slt "select1-3 over the wire" "$SLT/select1.test" "$SLT/select2.test" "$SLT/select3.test"
run_slt "evidence files, records PostgreSQL 15 passes, over the wire" \
  --only-dir "$ROOT/tests/slt/pg15" "${evidence[@]}"

clients_stop
[ -n "${CLIENTS_STOP_FAILED:-}" ] && fail "the server did not stop on SIGTERM"
[ $failures -ne 0 ] && clients_show_log
echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
