#!/usr/bin/env bash
# test_sdk.sh - the SDK works on its own: copies include/ and sdk/ (nothing
# else) to a temporary directory, builds the allowlist-auth example there,
# runs its unit test, checks its exports, inspects it with the host, checks
# configs that name it, then serves with it and stops the server cleanly.
#
# Run from the repository root (tests/run.sh does) with:
#   DATACAVE_BUILD  absolute build directory; the host is $DATACAVE_BUILD/bin/datacave
#                   (default: ./build)
#   CC              the C compiler for the example (default: cc)
#   SDK_TEST_TIMEOUT  seconds to wait for the server to start or stop (default 10)
#   SDK_TEST_KEEP=1   keep the temporary directory (its path is printed)
# Prints each step; on the first failed check prints what failed and exits 1.
set -u
set -o pipefail

build="${DATACAVE_BUILD:-$PWD/build}"
case "$build" in /*) ;; *) build="$PWD/$build" ;; esac
host="$build/bin/datacave"
cc="${CC:-cc}"
timeout_s="${SDK_TEST_TIMEOUT:-10}"
module="allowlist-auth"
entry="datacave_module_allowlist_auth_v0"

tmp=""
server_pid=""

# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    if [ -n "$tmp" ] && [ -d "$tmp" ]; then
        if [ "${SDK_TEST_KEEP:-0}" = 1 ]; then
            echo "test_sdk: kept $tmp"
        else
            rm -rf "$tmp"
        fi
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
    echo "test_sdk: FAIL: $*" >&2
    exit 1
}

# Print a file (a log, a command's output) indented, for a failure report.
show() {
    echo "---- $1" >&2
    sed 's/^/    /' "$1" >&2
    echo "----" >&2
}

step() { echo "test_sdk: $*"; }

if [ ! -f include/datacave/module.h ] || [ ! -f sdk/module.mk ]; then
    fail "run from the repository root (no include/datacave/module.h or sdk/module.mk in $PWD)"
fi
[ -x "$host" ] || fail "no host binary at $host (set DATACAVE_BUILD)"
command -v nm >/dev/null || fail "nm not found"
command -v python3 >/dev/null || fail "python3 not found"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/datacave-sdk.XXXXXX")" || fail "mktemp -d failed"
cp -R include sdk "$tmp/" || fail "cannot copy include/ and sdk/ to $tmp"
ex="$tmp/sdk/examples/$module"
so="$ex/$module.so"
out="$tmp/out.txt"

# ---- build, unit test, exports ---------------------------------------------
step "building the example in $ex (CC=$cc)"
# Start from the sources alone, whatever the working tree had built.
make -C "$ex" clean >"$out" 2>&1 || { show "$out"; fail "make clean failed in the copied SDK"; }
make -C "$ex" CC="$cc" >"$out" 2>&1 || { show "$out"; fail "make failed in the copied SDK"; }
[ -f "$so" ] || fail "make did not produce $so"

step "make test"
make -C "$ex" CC="$cc" test >"$out" 2>&1 || { show "$out"; fail "make test failed"; }
grep -q 'PASSED' "$out" || { show "$out"; fail "make test printed no PASSED line"; }

step "checking the exported symbols"
nm -D --defined-only "$so" >"$out" 2>&1 || { show "$out"; fail "nm -D failed on $so"; }
syms="$(awk 'NF { print $NF }' "$out")"
[ "$syms" = "$entry" ] || { show "$out"; fail "$so must export exactly $entry, exports: $(tr '\n' ' ' <<<"$syms")"; }

# ---- modules inspect -----------------------------------------------------------
step "datacave modules inspect"
"$host" modules inspect "$so" >"$out" 2>&1 || { show "$out"; fail "modules inspect refused $so"; }
for want in "$module 0.1.0 (auth module" "entry: $entry" \
            "option [module.$module] password: string, required"; do
    grep -qF "$want" "$out" || { show "$out"; fail "modules inspect output lacks '$want'"; }
done

step "datacave modules inspect --json"
"$host" modules inspect --json "$so" >"$out" 2>&1 || { show "$out"; fail "modules inspect --json refused $so"; }
python3 - "$out" "$module" "$entry" <<'PY' || { show "$out"; fail "modules inspect --json: bad output"; }
import json, sys
path, name, entry = sys.argv[1:4]
try:
    with open(path) as f:
        doc = json.load(f)
except ValueError as e:
    sys.exit("not valid JSON: %s" % e)
def check(cond, what):
    if not cond:
        sys.exit("JSON check failed: " + what)
check(isinstance(doc, list) and len(doc) == 1, "one array element")
m = doc[0]
check(m.get("ok") is True, "ok is true")
check(m.get("name") == name, "name is %s" % name)
check(m.get("kind") == "auth", "kind is auth")
check(m.get("entry") == entry, "entry is %s" % entry)
check(m.get("dependencies") == [], "no dependencies")
opts = {o.get("name"): o for o in m.get("options", [])}
check(sorted(opts) == ["password", "read_only", "user"], "options user, password, read_only")
pw = opts["password"]
check(pw.get("required") is True and pw.get("secret") is True, "password is required and secret")
check("default" not in pw, "password has no default shown")
check(opts["user"].get("default") == '"demo"', 'user defaults to "demo"')
PY

# ---- check-config ----------------------------------------------------------------
cfg="$tmp/datacave.toml"
write_config() {
    {
        printf '[server]\nmodule_dir = "%s"\n\n' "$ex"
        printf '[modules]\nauth = "%s"\n' "$module"
        printf 'protocol = ""\nsql = ""\nstorage = ""\nencryption = ""\nmetrics = ""\n'
        if [ -n "$1" ]; then
            printf '\n[module.%s]\npassword = "%s"\n' "$module" "$1"
        fi
    } >"$cfg"
}

step "check-config without the required password"
write_config ""
if "$host" check-config --config "$cfg" >"$out" 2>&1; then
    show "$out"; fail "check-config passed a config without [module.$module] password"
fi
grep -qE "password.*required|required.*password" "$out" ||
    { show "$out"; fail "check-config did not name the missing required option password"; }

step "check-config with the password"
write_config "x"
"$host" check-config --config "$cfg" >"$out" 2>&1 ||
    { show "$cfg"; show "$out"; fail "check-config refused a good config"; }
grep -qF "$module" "$out" || { show "$out"; fail "check-config did not list $module"; }

# ---- serve and stop ----------------------------------------------------------------
log="$tmp/serve.log"
ticks=$((timeout_s * 10))

# True while the server process runs (a reaped or zombie process does not).
running() {
    kill -0 "$server_pid" 2>/dev/null || return 1
    local st
    st="$(awk '{ print $3 }' "/proc/$server_pid/stat" 2>/dev/null)" || return 0
    [ "$st" != Z ]
}

step "serve"
"$host" serve --config "$cfg" >"$tmp/serve.out" 2>"$log" &
server_pid=$!

i=0
until grep -q 'datacave ready' "$log" 2>/dev/null; do
    if ! running; then
        wait "$server_pid"
        status=$?
        server_pid=""
        show "$log"
        fail "the server exited (status $status) before 'datacave ready'"
    fi
    i=$((i + 1))
    [ "$i" -le "$ticks" ] || { show "$log"; fail "no 'datacave ready' within ${timeout_s}s"; }
    sleep 0.1
done
grep -qE "\\[$module\\] ready, 1 user\$" "$log" ||
    { show "$log"; fail "the log lacks the module's '[$module] ready, 1 user' line"; }

step "SIGTERM"
kill -TERM "$server_pid" || fail "cannot send SIGTERM to the server (pid $server_pid)"
i=0
while running; do
    i=$((i + 1))
    [ "$i" -le "$ticks" ] || { show "$log"; fail "the server did not exit within ${timeout_s}s of SIGTERM"; }
    sleep 0.1
done
wait "$server_pid"
status=$?
server_pid=""
[ "$status" -eq 0 ] || { show "$log"; fail "the server exited with status $status after SIGTERM, want 0"; }

term_line="$(grep -nE '\[host\] .* received, shutting down$' "$log" | head -n 1 | cut -d: -f1)"
down_line="$(grep -nE "\\[$module\\] shut down\$" "$log" | head -n 1 | cut -d: -f1)"
[ -n "$term_line" ] || { show "$log"; fail "the log lacks the host's 'received, shutting down' line"; }
[ -n "$down_line" ] || { show "$log"; fail "the log lacks the module's '[$module] shut down' line"; }
[ "$down_line" -gt "$term_line" ] ||
    { show "$log"; fail "the module's 'shut down' line (line $down_line) comes before the SIGTERM line (line $term_line)"; }

step "all checks passed"
exit 0
