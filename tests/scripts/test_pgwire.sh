#!/usr/bin/env bash
# tests/scripts/test_pgwire.sh - the pgwire module through real clients:
# `datacave serve` with throwaway configs (memory storage, auth off unless
# the password module is built) on free ports, driven by
# build/tests/clients/libpq_test (libpq and a raw socket) and psql:
#   start-up (ParameterStatus, unknown parameters, NegotiateProtocolVersion,
#   GSSENC), simple and extended queries, pipeline mode, row limits and
#   Describe Portal, binary formats of every type, cancel, COPY (reported
#   as skipped while the sql module lacks it), errors (C, M, P fields, txn
#   status), 1000 idle connections, max_connections (53300), malformed
#   messages (08P01) while another session goes on, the start-up and idle
#   timeouts, TLS (offered, required, misconfigured), a busy port, and
#   SIGTERM (57P01 to connected clients).
# Run by tests/run.sh from the repository root; exits 1 when a check failed.
set -u

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
B="${DATACAVE_BUILD:-$ROOT/build}"
DC="$B/bin/datacave"
CLIENT="$B/tests/clients/libpq_test"

tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

for f in "$DC" "$B/modules/pgwire.so" "$B/modules/sql.so" "$CLIENT"; do
  [ -e "$f" ] || { echo "FAIL: $f is not built (make all test)"; exit 1; }
done
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null || true

AUTH_MODULE='""'
[ -e "$B/modules/password.so" ] && HAVE_PASSWORD=1 || HAVE_PASSWORD=0

# write_config NAME PORT EXTRA_TOML: a config with memory storage.
write_config() {
  local name="$1" port="$2" extra="$3"
  cat > "$tmp/$name.toml" <<EOF
[server]
listen_addr = "127.0.0.1:$port"
module_dir = "$B/modules"
$(printf '%s' "$extra" | sed -n '/^#server/,/^#end/p' | sed '1d;$d')
[storage]
data_dir = "$tmp/data-$name"
[modules]
storage = "memory"
auth = $AUTH_MODULE
metrics = ""
$(printf '%s' "$extra" | sed -n '/^#rest/,$p' | sed '1d')
EOF
  grep -q '^\[security.auth\]' "$tmp/$name.toml" ||
    printf '[security.auth]\nenabled = false\n' >> "$tmp/$name.toml"
}

# start NAME EXTRA: start a server on a free port; sets PORT and SPID.
start() {
  local name="$1" extra="${2:-}"
  for attempt in 1 2 3 4 5 6 7 8; do
    PORT=$(( 20000 + (RANDOM % 30000) ))
    write_config "$name" "$PORT" "$extra"
    "$DC" serve --config "$tmp/$name.toml" > "$tmp/$name.log" 2>&1 &
    SPID=$!
    for _ in $(seq 1 100); do
      grep -q "datacave ready" "$tmp/$name.log" 2>/dev/null && break
      kill -0 "$SPID" 2>/dev/null || break
      sleep 0.1
    done
    if grep -q "datacave ready" "$tmp/$name.log"; then
      pids+=("$SPID")
      return 0
    fi
    wait "$SPID" 2>/dev/null
    grep -q "Address already in use" "$tmp/$name.log" || break
  done
  fail "server $name did not start"; sed 's/^/  | /' "$tmp/$name.log" | tail -20
  return 1
}

stop() {
  kill -TERM "$SPID" 2>/dev/null
  wait "$SPID" 2>/dev/null
}

# client NAME TEST [N]: run one libpq_test group, print its failures.
client() {
  local what="$1"; shift
  if timeout 300 "$CLIENT" 127.0.0.1 "$PORT" "$@" > "$tmp/client.out" 2>&1; then
    pass "$what ($(grep -c '^ok' "$tmp/client.out") checks)"
  else
    fail "$what"; grep -v '^ok' "$tmp/client.out" | sed 's/^/  | /' | head -30
  fi
  grep '^skip' "$tmp/client.out" | sed 's/^/  /'
}

# ---- the main server ---------------------------------------------------------
start main $'#server\nmax_connections = 1100\n#end' || exit 1
client "start-up" startup
client "simple protocol" basic
client "extended protocol" extended
client "pipeline mode" pipeline
client "row limits, Describe portal, Close, skip to Sync" rowlimit
client "binary formats" binary
client "errors" errors
client "cancel" cancel
client "COPY" copy
client "malformed messages" malformed
client "1000 idle connections" idle 1000
if command -v psql > /dev/null; then
  out=$(psql -X -At -h 127.0.0.1 -p "$PORT" -U someone -d default \
        -c "SELECT 1 + 1" 2>&1)
  [ "$out" = "2" ] && pass "psql" || fail "psql: $out"
fi

# SIGTERM: a connected client gets FATAL 57P01, the server exits 0.
"$CLIENT" 127.0.0.1 "$PORT" waitfatal > "$tmp/wait.out" 2>&1 &
wpid=$!
for _ in $(seq 1 100); do grep -q ready "$tmp/wait.out" && break; sleep 0.1; done
kill -TERM "$SPID"
wait "$SPID"; src=$?
wait "$wpid" && pass "SIGTERM: 57P01 to the client" ||
  { fail "SIGTERM"; cat "$tmp/wait.out"; }
[ "$src" = 0 ] && pass "server exit status 0 after SIGTERM" ||
  fail "server exit status $src after SIGTERM"
grep -q "datacave stopped" "$tmp/main.log" || fail "no clean stop in the log"

# ---- max_connections -----------------------------------------------------------
start small $'#server\nmax_connections = 5\n#end' && {
  client "max_connections 53300" maxconn 5
  stop
}

# ---- timeouts ------------------------------------------------------------------
start timeouts $'#server\nidle_timeout_secs = 1\n#end\n#rest\n[module.pgwire]\nstartup_timeout_secs = 1' && {
  PGW_EXPECT=57P05 client "idle timeout 57P05" waitfatal
  # A client that sends nothing is dropped after startup_timeout_secs.
  start_ns=$(date +%s)
  if exec 3<>"/dev/tcp/127.0.0.1/$PORT"; then
    timeout 10 cat <&3 > /dev/null
    exec 3<&-
    el=$(( $(date +%s) - start_ns ))
    [ "$el" -lt 8 ] && pass "stalled start-up dropped (${el}s)" ||
      fail "stalled start-up not dropped in time (${el}s)"
  else
    fail "could not open a raw connection"
  fi
  stop
}

# ---- a busy port ---------------------------------------------------------------
start holder "" && {
  write_config busy "$PORT" ""
  if "$DC" serve --config "$tmp/busy.toml" > "$tmp/busy.log" 2>&1; then
    fail "a second server on a busy port started"
  else
    grep -qF "could not listen on server.listen_addr \"127.0.0.1:$PORT\"" "$tmp/busy.log" &&
      pass "busy port: start fails with a clear message" ||
      { fail "busy port message"; cat "$tmp/busy.log"; }
  fi
  stop
}

# ---- TLS -------------------------------------------------------------------------
if command -v openssl > /dev/null; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/server.key" \
    -out "$tmp/server.crt" -days 2 -subj "/CN=localhost" > /dev/null 2>&1
  chmod 600 "$tmp/server.key"
  tls=$(printf '#rest\n[security.tls]\nenabled = true\ncert_path = "%s/server.crt"\nkey_path = "%s/server.key"' "$tmp" "$tmp")
  start tls "$tls" && {
    PGW_EXTRA="sslmode=require" client "TLS offered and used" tls
    client "plain text still allowed without require" basic
    stop
  }
  start tlsreq "$tls"$'\nrequire = true' && {
    PGW_EXTRA="sslmode=require" client "TLS required: encrypted session" tls
    PGW_EXTRA="sslmode=disable" client "TLS required: plain text refused" notls
    stop
  }
  # Enabled but misconfigured: the server must not start.
  write_config badtls 5 $'#rest\n[security.tls]\nenabled = true\ncert_path = "/nonexistent/server.crt"\nkey_path = "/nonexistent/server.key"'
  if "$DC" serve --config "$tmp/badtls.toml" > "$tmp/badtls.log" 2>&1; then
    fail "server started with an unreadable certificate"
  else
    grep -q "certificate file \"/nonexistent/server.crt\" cannot be read" \
      "$tmp/badtls.log" && pass "TLS misconfigured: start fails, clear message" ||
      { fail "TLS misconfigured message"; cat "$tmp/badtls.log"; }
  fi
else
  echo "skip: openssl not found, TLS not tested"
fi

# ---- password authentication (when the password module is built) -----------------
if [ "$HAVE_PASSWORD" = 1 ]; then
  AUTH_MODULE='"password"'
  auth=$'#rest\n[security.auth]\nenabled = true\n[[security.auth.roles]]\nname = "admin"\ncan_read = true\ncan_write = true\nis_admin = true\n[[security.auth.users]]\nusername = "tester"\npassword_plain = "secret"\nroles = ["admin"]'
  start auth "$auth" && {
    out=$(PGPASSWORD=secret psql -X -At -h 127.0.0.1 -p "$PORT" -U tester \
          -d default -c "SELECT 3" 2>&1)
    [ "$out" = "3" ] && pass "password login" || fail "password login: $out"
    out=$(PGPASSWORD=wrong psql -X -At -h 127.0.0.1 -p "$PORT" -U tester \
          -d default -c "SELECT 3" 2>&1)
    case "$out" in
      *"password authentication failed"*) pass "wrong password refused" ;;
      *) fail "wrong password: $out" ;;
    esac
    grep -q 'authentication failed for user "tester" from 127.0.0.1' \
      "$tmp/auth.log" && pass "failed login logged" || fail "failed login not logged"
    stop
  }
else
  echo "skip: the password auth module is not built; authentication not tested"
fi

echo
[ "$failures" -eq 0 ] && echo "test_pgwire: all passed" || echo "test_pgwire: $failures failed"
[ "$failures" -eq 0 ]
