#!/usr/bin/env bash
# tests/scripts/test_cli.sh - the `datacave` command line, through the real
# binary $DATACAVE_BUILD/bin/datacave and the test modules in
# $DATACAVE_TEST_MODULES (tests/modules/modules.mk):
#   --version, --help, COMMAND --help, usage errors (exit 2);
#   modules inspect (text and --json) on good and refused modules;
#   modules list over the test module directory;
#   check-config on a good config and on bad ones (unknown key, wrong type,
#     invalid TOML: FILE:LINE:COL and the key or expected type);
#   serve with a refused module (exits 1 at once, one line naming the file,
#     the field and both values), with a failing init, and with good modules
#     (started in the background, ready, SIGTERM, exit 0, init in dependency
#     order and shutdown in reverse).
# Run by tests/run.sh from the repository root.  Prints every failed check
# and exits 1 when there was one.
set -u

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
B="${DATACAVE_BUILD:-$ROOT/build}"
M="${DATACAVE_TEST_MODULES:-$B/tests/modules}"
DC="$B/bin/datacave"

tmp="$(mktemp -d)"
serve_pid=""
cleanup() {
  if [ -n "$serve_pid" ] && kill -0 "$serve_pid" 2>/dev/null; then
    kill -KILL "$serve_pid" 2>/dev/null
    wait "$serve_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
checks=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
# Show what the last command printed (after a failure).
show() {
  echo "  --- stdout:"; sed 's/^/  | /' "$tmp/out" | head -n 30
  echo "  --- stderr:"; sed 's/^/  | /' "$tmp/err" | head -n 30
}

# run CMD...: stdout to $tmp/out, stderr to $tmp/err, status to $rc.  Every
# command gets a time limit so that a hang is a failure, not a stuck test.
rc=0
run() {
  timeout 30 "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
}
# expect_rc WANT WHAT
expect_rc() {
  checks=$((checks + 1))
  if [ "$rc" -ne "$1" ]; then
    fail "$2: exit status $rc, expected $1"
    show
    return 1
  fi
  return 0
}
# has FILE TEXT WHAT: FILE contains TEXT (fixed string)
has() {
  checks=$((checks + 1))
  if ! grep -qF -- "$2" "$1"; then
    fail "$3: expected '$2' in $(basename "$1")"
    show
    return 1
  fi
  return 0
}
# has_re FILE REGEX WHAT
has_re() {
  checks=$((checks + 1))
  if ! grep -qE -- "$2" "$1"; then
    fail "$3: expected /$2/ in $(basename "$1")"
    show
    return 1
  fi
  return 0
}
# lacks FILE TEXT WHAT
lacks() {
  checks=$((checks + 1))
  if grep -qF -- "$2" "$1"; then
    fail "$3: did not expect '$2' in $(basename "$1")"
    show
    return 1
  fi
  return 0
}
# same A B WHAT
same() {
  checks=$((checks + 1))
  if [ "$1" != "$2" ]; then
    fail "$3: got '$1', expected '$2'"
    return 1
  fi
  return 0
}

[ -x "$DC" ] || { echo "FAIL: no datacave binary at $DC"; exit 1; }
[ -f "$M/tm-auth.so" ] || { echo "FAIL: no test modules in $M"; exit 1; }

# The ABI numbers, from the header the host was built with.
abi_major=$(awk '$1 == "#define" && $2 == "DC_ABI_MAJOR" { print $3 }' "$ROOT/include/datacave/abi.h")
abi_minor=$(awk '$1 == "#define" && $2 == "DC_ABI_MINOR" { print $3 }' "$ROOT/include/datacave/abi.h")
storage_major=$(awk '$2 == "DC_STORAGE_VTABLE_MAJOR" { print $3 }' "$ROOT/include/datacave/storage.h")
storage_minor=$(awk '$2 == "DC_STORAGE_VTABLE_MINOR" { print $3 }' "$ROOT/include/datacave/storage.h")

# ---- version, help, usage errors -------------------------------------------------

run "$DC" --version
expect_rc 0 "--version" && has "$tmp/out" "datacave " "--version" &&
  has "$tmp/out" "ABI $abi_major.$abi_minor" "--version shows the module ABI"

run "$DC" --help
expect_rc 0 "--help" && has "$tmp/out" "usage: datacave" "--help"
for c in serve check-config modules gen-password-hash; do
  has "$tmp/out" "$c" "--help lists $c"
done

for c in serve check-config modules gen-password-hash; do
  run "$DC" "$c" --help
  expect_rc 0 "$c --help" && has "$tmp/out" "usage: datacave $c" "$c --help"
done
run "$DC" modules list --help
expect_rc 0 "modules list --help" && has "$tmp/out" "usage: datacave modules" "modules list --help"

run "$DC" frobnicate
expect_rc 2 "unknown command" && has "$tmp/err" "frobnicate" "unknown command is named" &&
  has "$tmp/err" "usage: datacave" "unknown command prints usage"
run "$DC"
expect_rc 2 "no command"
run "$DC" serve --bogus-option
expect_rc 2 "unknown option" && has "$tmp/err" "--bogus-option" "unknown option is named"
run "$DC" modules frob
expect_rc 2 "unknown modules command"
run "$DC" modules inspect
expect_rc 2 "modules inspect without a file"

# ---- modules inspect -------------------------------------------------------------------

run "$DC" modules inspect "$M/tm-storage.so"
if expect_rc 0 "inspect tm-storage"; then
  has "$tmp/out" "tm-storage 0.1.0 (storage module, ABI $abi_major.$abi_minor, storage vtable $storage_major.$storage_minor)" \
    "inspect shows name, kind and versions"
  has "$tmp/out" "encryption (required)" "inspect shows the dependency"
fi

run "$DC" modules inspect --json "$M/tm-metrics.so" "$M/tm-storage.so"
if expect_rc 0 "inspect --json"; then
  checks=$((checks + 1))
  if ! python3 - "$tmp/out" "$abi_major.$abi_minor" <<'EOF' >"$tmp/py" 2>&1; then
import json, sys
doc = json.load(open(sys.argv[1]))
abi = sys.argv[2]
assert isinstance(doc, list) and len(doc) == 2, doc
for o in doc:
    for f in ("name", "kind", "version", "abi", "kind_version", "dependencies", "options"):
        assert f in o, "field %s missing in %r" % (f, o)
    assert o["abi"] == abi, o
    assert o["version"] == "0.1.0", o
m, s = doc
assert (m["name"], m["kind"]) == ("tm-metrics", "metrics"), m
assert (s["name"], s["kind"]) == ("tm-storage", "storage"), s
assert s["dependencies"] == [{"kind": "encryption", "required": True}], s
assert s["options"] == [], s
assert [d["kind"] for d in m["dependencies"]] == ["storage"], m
assert m["dependencies"][0]["required"] is False, m
opts = {o["name"]: o for o in m["options"]}
assert set(opts) == {"greeting", "count"}, opts
assert opts["greeting"]["type"] == "string" and opts["greeting"]["default"] == '"hello"', opts
assert opts["count"]["type"] == "integer" and opts["count"]["default"] == "3", opts
EOF
    fail "inspect --json: $(cat "$tmp/py")"
    show
  fi
fi

run "$DC" modules inspect "$M/tm-bad-platform.so"
expect_rc 1 "inspect a refused module" &&
  has "$tmp/out" "refused" "inspect says refused" &&
  has "$tmp/out" "platform signature" "inspect says why"

run "$DC" modules inspect "$M/tm-bad-abi-major.so"
expect_rc 1 "inspect ABI major" &&
  has "$tmp/out" "ABI major $((abi_major + 1)), host supports $abi_major" "inspect ABI major values"

run "$DC" modules inspect "$M/tm-bad-text.so"
expect_rc 1 "inspect a text file" && has "$tmp/out" "not an ELF file" "inspect a text file says why"

run "$DC" modules inspect --json "$M/tm-auth.so" "$M/tm-bad-two-entries.so"
if expect_rc 1 "inspect --json good and bad"; then
  checks=$((checks + 1))
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert [o["ok"] for o in d] == [True, False], d
assert "entry symbols 2" in d[1]["error"], d
' "$tmp/out" 2>"$tmp/py" || { fail "inspect --json refused: $(cat "$tmp/py")"; show; }
fi

# ---- modules list ----------------------------------------------------------------------

cat >"$tmp/list.toml" <<EOF
[server]
module_dir = "$M"
EOF
run "$DC" modules list --config "$tmp/list.toml"
# The directory holds refused modules too, so the status is 1.
if expect_rc 1 "modules list over the test modules"; then
  nso=$(ls "$M"/*.so | wc -l)
  same "$(grep -c '\.so: ' "$tmp/out")" "$nso" "modules list prints one line per file"
  for m in tm-auth:auth tm-enc:encryption tm-storage:storage tm-metrics:metrics tm-proto:protocol; do
    has "$tmp/out" "$M/${m%%:*}.so: ${m%%:*} 0.1.0 (${m#*:} module" "modules list shows ${m%%:*}"
  done
  has "$tmp/out" "$M/tm-bad-magic.so: refused" "modules list shows a refused module"
fi

# Only good modules: status 0, and --json.
mkdir -p "$tmp/good-mods"
for m in tm-auth tm-enc tm-storage tm-metrics tm-proto; do
  ln -s "$M/$m.so" "$tmp/good-mods/$m.so"
done
cat >"$tmp/list-good.toml" <<EOF
[server]
module_dir = "good-mods"
EOF
run "$DC" modules list --config "$tmp/list-good.toml" --json
if expect_rc 0 "modules list over good modules"; then
  checks=$((checks + 1))
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert sorted(o["name"] for o in d) == ["tm-auth", "tm-enc", "tm-metrics", "tm-proto", "tm-storage"], d
assert all(o["ok"] for o in d), d
' "$tmp/out" 2>"$tmp/py" || { fail "modules list --json: $(cat "$tmp/py")"; show; }
fi

# ---- check-config --------------------------------------------------------------------

# write_config FILE [MODULE ASSIGNMENTS...] [-- EXTRA TOML]
# A config whose [modules] names test modules; kinds not named are "".
write_config() {
  local file="$1"; shift
  local protocol='""' sql='""' storage='""' auth='""' encryption='""' metrics='""'
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    local k="${1%%=*}" v="${1#*=}"
    eval "$k='\"$v\"'"
    shift
  done
  [ "${1:-}" = "--" ] && shift
  {
    echo "[server]"
    echo "module_dir = \"$M\""
    echo
    echo "[storage]"
    echo "data_dir = \"$tmp/data\""
    echo
    echo "[modules]"
    echo "protocol = $protocol"
    echo "sql = $sql"
    echo "storage = $storage"
    echo "auth = $auth"
    echo "encryption = $encryption"
    echo "metrics = $metrics"
    for line in "$@"; do echo "$line"; done
  } >"$file"
}

GOOD_MODS=(protocol=tm-proto storage=tm-storage auth=tm-auth encryption=tm-enc metrics=tm-metrics)

write_config "$tmp/good.toml" "${GOOD_MODS[@]}" -- "" "[module.tm-metrics]" 'greeting = "bonjour"'
run "$DC" check-config --config "$tmp/good.toml"
if expect_rc 0 "check-config on a good config"; then
  has "$tmp/out" "configuration OK, 5 modules" "check-config counts the modules"
  for m in tm-auth tm-enc tm-storage tm-metrics tm-proto; do
    has "$tmp/out" "$m" "check-config lists $m"
  done
  lacks "$tmp/err" "init " "check-config initialises nothing"
fi

# (a) an unknown key, in a host section and in a module's section
cat >"$tmp/unknown.toml" <<EOF
[server]
module_dir = "$M"
bogus_key = 1
EOF
run "$DC" check-config --config "$tmp/unknown.toml"
expect_rc 1 "check-config with an unknown key" &&
  has_re "$tmp/err" "unknown\.toml:3:[0-9]+: .*'bogus_key'" "unknown key: FILE:LINE:COL and the key"

write_config "$tmp/unknown-mod.toml" "${GOOD_MODS[@]}" -- "" "[module.tm-metrics]" 'colour = "red"'
ln=$(grep -n '^colour' "$tmp/unknown-mod.toml" | cut -d: -f1)
run "$DC" check-config --config "$tmp/unknown-mod.toml"
expect_rc 1 "check-config with an unknown module option" &&
  has_re "$tmp/err" "unknown-mod\.toml:$ln:[0-9]+: .*'colour'.*\[module\.tm-metrics\]" \
    "unknown module option: FILE:LINE:COL, the key and the section"

# (b) a wrong type, in a host section and in a module's section
cat >"$tmp/type.toml" <<EOF
[server]
module_dir = "$M"
max_connections = "many"
EOF
run "$DC" check-config --config "$tmp/type.toml"
expect_rc 1 "check-config with a wrong type" &&
  has_re "$tmp/err" "type\.toml:3:[0-9]+: server\.max_connections must be an integer" \
    "wrong type: FILE:LINE:COL, the key and the expected type"

write_config "$tmp/type-mod.toml" "${GOOD_MODS[@]}" -- "" "[module.tm-metrics]" 'count = "three"'
ln=$(grep -n '^count' "$tmp/type-mod.toml" | cut -d: -f1)
run "$DC" check-config --config "$tmp/type-mod.toml"
expect_rc 1 "check-config with a module option of the wrong type" &&
  has_re "$tmp/err" "type-mod\.toml:$ln:[0-9]+: module\.tm-metrics\.count must be an integer" \
    "wrong module option type: FILE:LINE:COL, the key and the expected type"

# (c) invalid TOML
printf '[server]\nmodule_dir = "%s"\nlisten_addr = "unterminated\n' "$M" >"$tmp/invalid.toml"
run "$DC" check-config --config "$tmp/invalid.toml"
expect_rc 1 "check-config with invalid TOML" &&
  has_re "$tmp/err" "invalid\.toml:3:[0-9]+: " "invalid TOML: FILE:LINE:COL"

# A refused module and a missing dependency are found without init.
write_config "$tmp/refused.toml" metrics=tm-bad-null-get
run "$DC" check-config --config "$tmp/refused.toml"
expect_rc 1 "check-config with a module of another kind" &&
  has "$tmp/err" "$M/tm-bad-null-get.so: kind storage, [modules] metrics expects a metrics module" \
    "check-config names the file, the field and both values"
write_config "$tmp/nodep.toml" storage=tm-storage
run "$DC" check-config --config "$tmp/nodep.toml"
expect_rc 1 "check-config with a missing dependency" &&
  has "$tmp/err" "$M/tm-storage.so: dependency encryption missing" "check-config names the missing dependency"

run "$DC" check-config --config "$tmp/no-such-file.toml"
expect_rc 1 "check-config on a missing file" && has "$tmp/err" "no-such-file.toml" "missing config is named"

# ---- serve -----------------------------------------------------------------------------

# A refused module: exit 1 at once, before anything is initialised.
write_config "$tmp/serve-bad.toml" storage=tm-storage auth=tm-auth encryption=tm-enc \
  metrics=tm-bad-abi-major
start=$(date +%s)
run "$DC" serve --config "$tmp/serve-bad.toml"
elapsed=$(($(date +%s) - start))
if expect_rc 1 "serve with a refused module"; then
  same "$(grep -c . "$tmp/err")" 1 "serve with a refused module prints one line"
  has "$tmp/err" "$M/tm-bad-abi-major.so: ABI major $((abi_major + 1)), host supports $abi_major" \
    "serve refusal names the file, the field and both values"
  lacks "$tmp/err" "ready" "serve with a refused module never gets ready"
  lacks "$tmp/err" "] init " "serve with a refused module initialises nothing"
fi
checks=$((checks + 1))
[ "$elapsed" -le 5 ] || fail "serve with a refused module took ${elapsed}s to exit"

# A failing init: exit 1, the initialised modules shut down in reverse.
write_config "$tmp/serve-fail.toml" sql=tm-fail storage=tm-storage auth=tm-auth encryption=tm-enc
run "$DC" serve --config "$tmp/serve-fail.toml"
if expect_rc 1 "serve with a failing init"; then
  has_re "$tmp/err" "module tm-fail .*init failed: .*deliberate init failure" \
    "serve names the module whose init failed"
  inits=$(sed -nE 's/.*\[(tm-[a-z0-9-]+)\] init \1$/\1/p' "$tmp/err" | tr '\n' ' ')
  downs=$(sed -nE 's/.*\[(tm-[a-z0-9-]+)\] shutdown \1$/\1/p' "$tmp/err" | tr '\n' ' ')
  same "$inits" "tm-auth tm-enc tm-storage tm-fail " "serve with a failing init: init order"
  same "$downs" "tm-storage tm-enc tm-auth " "serve with a failing init: shutdown order"
  lacks "$tmp/err" "datacave ready" "serve with a failing init never gets ready"
fi

# Good modules: start, wait until ready, SIGTERM, exit 0.
"$DC" serve --config "$tmp/good.toml" >"$tmp/serve.out" 2>"$tmp/serve.log" &
serve_pid=$!
ready=0
for _ in $(seq 1 100); do # up to 10 s
  if grep -q "datacave ready" "$tmp/serve.log"; then ready=1; break; fi
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.1
done
checks=$((checks + 1))
if [ "$ready" -ne 1 ]; then
  fail "serve with good modules: no 'datacave ready' within 10 s"
  sed 's/^/  | /' "$tmp/serve.log" | head -n 40
else
  kill -TERM "$serve_pid"
  exited=0
  for _ in $(seq 1 100); do # up to 10 s
    if ! kill -0 "$serve_pid" 2>/dev/null; then exited=1; break; fi
    sleep 0.1
  done
  checks=$((checks + 1))
  if [ "$exited" -ne 1 ]; then
    fail "serve did not exit within 10 s of SIGTERM"
    kill -KILL "$serve_pid" 2>/dev/null
  fi
  wait "$serve_pid"
  rc=$?
  serve_pid=""
  cp "$tmp/serve.out" "$tmp/out"
  cp "$tmp/serve.log" "$tmp/err"
  if expect_rc 0 "serve with good modules, after SIGTERM"; then
    inits=$(sed -nE 's/.*\[(tm-[a-z0-9-]+)\] init \1$/\1/p' "$tmp/serve.log" | tr '\n' ' ')
    downs=$(sed -nE 's/.*\[(tm-[a-z0-9-]+)\] shutdown \1$/\1/p' "$tmp/serve.log" | tr '\n' ' ')
    same "$inits" "tm-auth tm-enc tm-storage tm-metrics tm-proto " "serve: init in dependency order"
    same "$downs" "tm-proto tm-metrics tm-storage tm-enc tm-auth " "serve: shutdown in reverse order"
    has "$tmp/serve.log" "[tm-metrics] options greeting=bonjour count=3" "serve: module options reach the module"
    has "$tmp/serve.log" "[tm-storage] roundtrip through encryption ok" "serve: a module uses its dependency"
    has "$tmp/serve.log" "datacave stopped" "serve: stopped"
    # start after every init and before ready; stop after the signal and
    # before the first shutdown.
    line() { grep -nF -- "$1" "$tmp/serve.log" | head -n 1 | cut -d: -f1; }
    l_init=$(line "[tm-proto] init tm-proto")
    l_start=$(line "[tm-proto] start tm-proto")
    l_ready=$(line "datacave ready")
    l_stop=$(line "[tm-proto] stop tm-proto")
    l_down=$(line "[tm-proto] shutdown tm-proto")
    checks=$((checks + 1))
    if ! [ -n "$l_init" ] || ! [ -n "$l_start" ] || ! [ -n "$l_stop" ] || ! [ -n "$l_down" ] ||
       ! [ "$l_init" -lt "$l_start" ] || ! [ "$l_start" -lt "$l_ready" ] ||
       ! [ "$l_ready" -lt "$l_stop" ] || ! [ "$l_stop" -lt "$l_down" ]; then
      fail "serve: protocol start/stop out of order (init $l_init, start $l_start, ready $l_ready, stop $l_stop, shutdown $l_down)"
      sed 's/^/  | /' "$tmp/serve.log"
    fi
  fi
fi

echo
echo "test_cli: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
