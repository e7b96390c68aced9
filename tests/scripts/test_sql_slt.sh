#!/usr/bin/env bash
# tests/scripts/test_sql_slt.sh - SQL correctness with sqllogictest, through
# $DATACAVE_BUILD/tests/slt/slt_runner and the sql module in-process:
#   the runner itself: tests/slt/selftest.test must pass every record but
#     those marked "# expect-fail", which must fail (so a runner that
#     passes everything, or nothing, is caught), with 4 skipped;
#   select1-3 of the corpus ($DATACAVE_SHARED/slt, default ../shared/slt),
#     every record, on the lsm storage engine (select1 also on memory);
#   the evidence files (in1, in2, slt_lang_*) restricted to the records
#     PostgreSQL 15 passes (tests/slt/pg15/<name>.pass, made by
#     tests/slt/pg15-passing.sh);
#   when a PostgreSQL is reachable (PGCONN, or the local cluster as the
#     postgres user): the selftest and select1 through the --pg backend,
#     so the runner agrees with PostgreSQL.
# Each file runs on a fresh data directory under a temporary directory.
# Run by tests/run.sh from the repository root; exits 1 on any failure.
set -u

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
B="${DATACAVE_BUILD:-$ROOT/build}"
SLT="${DATACAVE_SHARED:-$ROOT/../shared}/slt"
RUNNER="$B/tests/slt/slt_runner"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

failures=0
checks=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

[ -x "$RUNNER" ] || { echo "FAIL: no runner at $RUNNER"; exit 1; }
for f in select1 select2 select3 in1 in2; do
  [ -f "$SLT/$f.test" ] || { echo "FAIL: no $SLT/$f.test (set DATACAVE_SHARED)"; exit 1; }
done

# check_selftest OUT RC WHAT: the runner's verdicts on selftest.test.
SELF="$ROOT/tests/slt/selftest.test"
want_fail="$(awk 'prev == "# expect-fail" { print NR } { prev = $0 }' "$SELF" | sort -n | tr '\n' ' ')"
check_selftest() {
  checks=$((checks + 1))
  local got_fail counts
  got_fail="$(sed -n 's/^FAIL .*selftest.test:\([0-9]*\):.*/\1/p' "$1" | sort -n | tr '\n' ' ')"
  counts="$(grep -o '[0-9]* passed, [0-9]* failed, [0-9]* skipped' "$1")"
  if [ "$2" -ne 1 ] || [ "$got_fail" != "$want_fail" ] ||
     [ "$counts" != "14 passed, 6 failed, 4 skipped" ]; then
    fail "$3: selftest verdicts: failed records '$got_fail' (want '$want_fail'), '$counts', status $2"
    sed 's/^/  | /' "$1" | head -n 60
  fi
}

# run_slt WHAT EXPECT-STATUS ARGS...: run the runner, show its report on a
# status other than the one expected.
run_slt() {
  local what="$1" want="$2"; shift 2
  checks=$((checks + 1))
  timeout 1200 "$RUNNER" --show 5 "$@" >"$tmp/out" 2>&1
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    fail "$what: runner status $rc, expected $want"
    sed 's/^/  | /' "$tmp/out" | head -n 80
    return 1
  fi
  echo "  $what:"
  grep -E '(passed|FAIL)' "$tmp/out" | sed 's/^/    /' | head -n 20
  return 0
}

# ---- PostgreSQL, when there is one: the runner agrees with it -------------------

PG=""
if [ -n "${PGCONN:-}" ]; then
  PG="$PGCONN"
elif [ "$(id -u)" = 0 ] && command -v psql >/dev/null &&
     (cd / && su postgres -c "psql -X -h /var/run/postgresql -c 'select 1'") >/dev/null 2>&1; then
  # The runner runs as the postgres user: it must be able to reach it and
  # the test files (a checkout under a private directory is out of reach).
  if (cd / && su postgres -c "test -x $(printf '%q' "$RUNNER") && test -r $(printf '%q' "$SLT/select1.test")"); then
    PG="host=/var/run/postgresql dbname=postgres"
  else
    echo "note: the postgres user cannot read $RUNNER or $SLT (set PGCONN): the --pg checks did not run"
  fi
fi
if [ -z "$PG" ]; then
  echo "note: no usable PostgreSQL (set PGCONN): the --pg checks did not run"
else
  as_pg() {
    if [ -z "${PGCONN:-}" ]; then
      (cd / && su postgres -c "$(printf '%q ' "$@")")
    else
      "$@"
    fi
  }
  as_pg "$RUNNER" --show 10 --pg "$PG" "$SELF" >"$tmp/out" 2>&1
  check_selftest "$tmp/out" $? "--pg"
  checks=$((checks + 1))
  if ! as_pg "$RUNNER" --show 5 --pg "$PG" "$SLT/select1.test" >"$tmp/out" 2>&1; then
    fail "PostgreSQL does not pass select1.test with this runner"
    sed 's/^/  | /' "$tmp/out" | head -n 40
  else
    echo "  --pg ($PG): the selftest verdicts are right and PostgreSQL passes select1"
  fi
fi

# ---- in-process -------------------------------------------------------------------------

if [ ! -f "$B/modules/sql.so" ]; then
  echo "FAIL: no sql module at $B/modules/sql.so: the in-process runs did not happen"
  exit 1
fi

config() { # config FILE STORAGE
  cat >"$1" <<EOF
[server]
module_dir = "$B/modules"
[modules]
protocol = ""
sql = "sql"
storage = "$2"
auth = ""
encryption = "none"
metrics = ""
[storage]
data_dir = "$tmp/unused"
EOF
}
config "$tmp/lsm.toml" lsm
config "$tmp/memory.toml" memory

for s in lsm memory; do
  timeout 600 "$RUNNER" --show 10 --config "$tmp/$s.toml" --work-dir "$tmp" "$SELF" >"$tmp/out" 2>&1
  check_selftest "$tmp/out" $? "in-process ($s)"
done

run_slt "select1 (memory)" 0 --config "$tmp/memory.toml" --work-dir "$tmp" "$SLT/select1.test"
run_slt "select1-3 (lsm)" 0 --config "$tmp/lsm.toml" --work-dir "$tmp" \
  "$SLT/select1.test" "$SLT/select2.test" "$SLT/select3.test"

evidence=("$SLT/in1.test" "$SLT/in2.test" "$SLT"/slt_lang_*.test)
for f in "${evidence[@]}"; do
  [ -f "$ROOT/tests/slt/pg15/$(basename "$f" .test).pass" ] ||
    fail "no PostgreSQL pass list for $(basename "$f") (run tests/slt/pg15-passing.sh)"
done
run_slt "evidence files, records PostgreSQL 15 passes (lsm)" 0 --config "$tmp/lsm.toml" \
  --work-dir "$tmp" --only-dir "$ROOT/tests/slt/pg15" "${evidence[@]}"

# Every data directory was removed.
checks=$((checks + 1))
left="$(find "$tmp" -maxdepth 1 -name 'slt-*' | wc -l)"
[ "$left" -eq 0 ] || fail "$left scratch data directories left behind"

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
