#!/usr/bin/env bash
# tests/scripts/test_exports.sh - every module exports exactly one dynamic
# symbol, and it starts with datacave_module_ (docs/abi.md section 2).
#
# Checked with `nm -D --defined-only`:
#   - every real module, $DATACAVE_BUILD/modules/*.so;
#   - when there is none yet, the SDK example (allowlist-auth, built from a
#     copy of sdk/ and include/ in a temporary directory, as the SDK guide
#     says) instead;
#   - the good test modules of $DATACAVE_TEST_MODULES, which are built with
#     the same flags as real modules;
#   - and, to prove the check itself works, that it rejects the test module
#     with two entry symbols and the one with none.
# Run by tests/run.sh from the repository root.  Prints every failed check
# and exits 1 when there was one.
set -u

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
B="${DATACAVE_BUILD:-$ROOT/build}"
M="${DATACAVE_TEST_MODULES:-$B/tests/modules}"
CC="${CC:-cc}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

failures=0
checks=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

command -v nm >/dev/null || { echo "FAIL: nm not found (binutils)"; exit 1; }

# exports_ok FILE: 0 when FILE's dynamic symbol table defines exactly one
# symbol, global, named datacave_module_*; otherwise prints why and 1.
exports_ok() {
  local f="$1" out syms n
  if ! out=$(nm -D --defined-only "$f" 2>&1); then
    echo "$f: nm failed: $out"
    return 1
  fi
  # Lines are "VALUE TYPE NAME"; an upper-case TYPE is a global symbol.
  syms=$(printf '%s\n' "$out" | awk 'NF >= 2 { print $(NF-1), $NF }')
  n=$(printf '%s\n' "$syms" | grep -c .)
  if [ "$n" -ne 1 ]; then
    echo "$f: $n exported symbols, expected exactly one:" $(printf '%s\n' "$syms" | awk '{ print $2 }')
    return 1
  fi
  local type="${syms%% *}" name="${syms#* }"
  case "$type" in
    [A-Z]) ;;
    *) echo "$f: symbol $name has type $type, expected a global symbol"; return 1 ;;
  esac
  case "$name" in
    datacave_module_*) ;;
    *) echo "$f: exports $name, expected datacave_module_*"; return 1 ;;
  esac
  return 0
}

# must_pass FILE WHAT / must_fail FILE WHAT
must_pass() {
  checks=$((checks + 1))
  local why
  if why=$(exports_ok "$1"); then
    echo "ok: $2 $(basename "$1") exports $(nm -D --defined-only "$1" | awk '{ print $NF }')"
  else
    fail "$2: $why"
  fi
}
must_fail() {
  checks=$((checks + 1))
  local why
  if why=$(exports_ok "$1"); then
    fail "$2: the export check accepted $(basename "$1")"
  else
    echo "ok: $2 rejected: $why"
  fi
}

# ---- real modules, or the SDK example when there are none --------------------------

shopt -s nullglob
real=("$B"/modules/*.so)
shopt -u nullglob
if [ ${#real[@]} -gt 0 ]; then
  echo "checking ${#real[@]} real module(s) in $B/modules"
  for f in "${real[@]}"; do
    must_pass "$f" "real module"
  done
else
  echo "no real modules in $B/modules yet: checking the SDK example and the test modules instead"
  cp -r "$ROOT/sdk" "$ROOT/include" "$tmp/"
  ex="$tmp/sdk/examples/allowlist-auth"
  # Start from sources only (the tree may hold build products).
  rm -f "$ex"/*.so "$ex"/*.o "$ex"/*.d
  checks=$((checks + 1))
  if make -s -C "$ex" CC="$CC" >"$tmp/sdk-build.log" 2>&1; then
    must_pass "$ex/allowlist-auth.so" "SDK example"
    checks=$((checks + 1))
    if make -s -C "$ex" CC="$CC" check-exports >"$tmp/sdk-check.log" 2>&1; then
      echo "ok: SDK's own check-exports target accepts allowlist-auth.so"
    else
      fail "SDK example: make check-exports failed:"
      sed 's/^/  | /' "$tmp/sdk-check.log"
    fi
  else
    fail "SDK example (sdk/examples/allowlist-auth) did not build with the SDK:"
    sed 's/^/  | /' "$tmp/sdk-build.log" | tail -n 30
  fi
fi

# ---- the test modules ------------------------------------------------------------------------

[ -f "$M/tm-auth.so" ] || { echo "FAIL: no test modules in $M"; exit 1; }
for m in tm-auth tm-enc tm-storage tm-metrics tm-proto tm-fail tm-dup-a tm-dup-b \
         tm-cycle-sql tm-cycle-proto tm-bad-missing-dep tm-bad-magic tm-bad-abi-major \
         tm-bad-abi-minor tm-bad-size tm-bad-kind-major tm-bad-platform tm-bad-null-init \
         tm-bad-null-get; do
  must_pass "$M/$m.so" "test module"
done

# The check must reject what the loader rejects for its exports.
must_fail "$M/tm-bad-two-entries.so" "two entry symbols"
must_fail "$M/tm-bad-no-entry.so" "no entry symbol"
must_fail "$M/tm-bad-text.so" "a text file"

echo
echo "test_exports: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
