#!/usr/bin/env bash
# tests/scripts/test_metrics.sh - the metrics module "prometheus" in a real
# server (pgwire + sql + lsm + password auth) on free ports:
#   - while the storage recovers (held by the DATACAVE_TEST_HOLD_RECOVERY
#     test hook of the lsm engine), /health is 200, /ready is 503 and the
#     protocol port does not answer; once recovery goes on, /ready is 200;
#   - psql runs a known mix of statements (inserts, selects, an update in a
#     committed block, a delete in a rolled back block, two errors, a failed
#     login); every scrape passes `promtool check metrics`, and the
#     counters moved by exactly what the mix implies: statements by kind,
#     errors by SQLSTATE class, transactions committed and rolled back,
#     rows read and written, connections, logins, the duration histogram's
#     count; the storage, process and build-info metrics are there and
#     consistent;
#   - HTTP: 404 for another path, 405 (with Allow) for another method, HEAD,
#     a malformed request (400) and a huge one (414) hurt nothing;
#   - a metrics address that cannot be bound (in use, not an address)
#     stops a second server at start with status 1 and a message naming it;
#   - on SIGTERM, while a session is kept busy (its client does not read a
#     large result, so the session ends only after shutdown_grace_secs),
#     /ready answers 503 and /health 200.
# Run by tests/run.sh from the repository root; exits 1 when a check failed.
set -u

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
source "$ROOT/tests/clients/lib.sh"

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

clients_need curl promtool psql pg_isready python3
for m in pgwire sql lsm memory password none prometheus; do
  [ -f "$B/modules/$m.so" ] || { echo "FAIL: $B/modules/$m.so is not built (make all)"; exit 1; }
done
[ -x "$DC" ] || { echo "FAIL: no datacave binary at $DC (make all)"; exit 1; }
clients_init

USER_NAME="metrics_user"
USER_PASS="metrics pass"
PG_PORT="$(clients_free_port)"
M_PORT="$(clients_free_port)"
while [ "$M_PORT" = "$PG_PORT" ]; do M_PORT="$(clients_free_port)"; done
URL="http://127.0.0.1:$M_PORT"
HOLD="$CT/hold-recovery"
BUSY_PID=""

_metrics_cleanup() {
  if [ -n "$BUSY_PID" ]; then
    kill -KILL "$BUSY_PID" 2>/dev/null
    wait "$BUSY_PID" 2>/dev/null
  fi
  _clients_cleanup
}
trap _metrics_cleanup EXIT

# write_config FILE PG_PORT METRICS_ADDR STORAGE DATA_DIR
write_config() {
  cat >"$1" <<EOF
[server]
listen_addr = "127.0.0.1:$2"
module_dir = "$B/modules"

[modules]
protocol = "pgwire"
sql = "sql"
storage = "$4"
auth = "password"
encryption = "none"
metrics = "prometheus"

[module.pgwire]
shutdown_grace_secs = 3

[module.password]
method = "password"

[metrics]
listen_addr = "$3"

[storage]
data_dir = "$5"

[security.auth]
enabled = true

[[security.auth.roles]]
name = "admin"
can_read = true
can_write = true
is_admin = true

[[security.auth.users]]
username = "$USER_NAME"
password_plain = "$USER_PASS"
roles = ["admin"]
EOF
}

# http PATH [curl args...]: sets CODE and BODY (status 000: no answer).
http() {
  local path="$1"
  shift
  BODY="$(curl -s -m 10 -o - -w '\n%{http_code}' "$@" "$URL$path" 2>/dev/null)"
  CODE="${BODY##*$'\n'}"
  BODY="${BODY%$'\n'*}"
  BODY="${BODY%$'\n'}"
}

# poll_http PATH CODE SECONDS: until PATH answers CODE (bounded; 1 if not).
poll_http() {
  local i
  for i in $(seq 1 $(($3 * 20))); do
    http "$1"
    [ "$CODE" = "$2" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# scrape FILE: GET /metrics into FILE; fails the test unless promtool
# accepts it without a word.
scrape() {
  local out
  http /metrics
  if [ "$CODE" != 200 ]; then
    fail "GET /metrics answered $CODE"
    : >"$1"
    return 1
  fi
  printf '%s\n' "$BODY" >"$1"
  out="$(promtool check metrics <"$1" 2>&1)"
  local rc=$?
  if [ $rc -ne 0 ] || [ -n "$out" ]; then
    fail "promtool check metrics on $(basename "$1") (status $rc): $out"
    return 1
  fi
  return 0
}

# val FILE SERIES: the value of the sample SERIES ('name{labels}' exactly as
# written), 0 when absent.
val() {
  awk -v k="$2" '$1 == k { v = $2; found = 1 } END { print found ? v : 0 }' "$1"
}

# expect_delta SERIES EXPECTED: the series moved by exactly EXPECTED
# between $M0 and $M1.
expect_delta() {
  local a b d
  a="$(val "$M0" "$1")"
  b="$(val "$M1" "$1")"
  d="$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.0f", b - a }')"
  if [ "$d" = "$2" ]; then
    pass "$1 moved by $2"
  else
    fail "$1 moved by $d ($a -> $b), expected $2"
  fi
}

# family_sum FILE NAME: the sum of every sample of family NAME (no suffix).
family_sum() {
  awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%.0f", s }' "$1"
}

# ---- 1. recovery: /health up, /ready 503, protocol closed -------------------------
CONF="$CT/datacave.toml"
write_config "$CONF" "$PG_PORT" "127.0.0.1:$M_PORT" lsm "$CT/data"
SERVER_LOG="$CT/server.log"
touch "$HOLD"
DATACAVE_TEST_HOLD_RECOVERY="$HOLD" "$DC" serve --config "$CONF" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

if poll_http /health 200 30; then
  pass "/health is 200 while the storage recovers"
  [ "$BODY" = ok ] || fail "/health body '$BODY', expected 'ok'"
else
  fail "/health did not answer 200 within 30 s (last status $CODE)"
  clients_show_log
  exit 1
fi
# The hold is logged before recovery waits; the state cannot change while
# the hold file exists.
for _ in $(seq 1 200); do
  grep -q 'recovery held while' "$SERVER_LOG" && break
  sleep 0.05
done
grep -q 'recovery held while' "$SERVER_LOG" || fail "the lsm engine did not log that recovery is held"
http /ready
if [ "$CODE" = 503 ] && printf '%s' "$BODY" | grep -q 'starting'; then
  pass "/ready is 503 during recovery ($BODY)"
else
  fail "/ready during recovery: $CODE '$BODY', expected 503 'not ready: starting...'"
fi
pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 2
rc=$?
[ $rc -eq 2 ] && pass "the protocol port does not answer during recovery" ||
  fail "pg_isready during recovery: status $rc, expected 2 (no answer)"
scrape "$CT/m-recovery.txt" && pass "/metrics during recovery passes promtool"

rm -f "$HOLD"
if poll_http /ready 200 30; then
  pass "/ready is 200 once recovered ($BODY)"
else
  fail "/ready did not become 200 within 30 s after recovery went on ($CODE '$BODY')"
  clients_show_log
  exit 1
fi
pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 5 || fail "pg_isready after /ready 200"

# ---- 2. the counters move by what the statements imply -----------------------------
export PGHOST=127.0.0.1 PGPORT="$PG_PORT" PGUSER="$USER_NAME" PGPASSWORD="$USER_PASS" PGDATABASE=default
unset PGSSLMODE PGSERVICE PGPASSFILE PGOPTIONS PGAPPNAME
export PGCONNECT_TIMEOUT=10

M0="$CT/m0.txt"
M1="$CT/m1.txt"
scrape "$M0" || { clients_show_log; exit 1; }
# One session, one Query per -c; psql goes on after an error.
timeout 60 psql -X -q -v ON_ERROR_STOP=0 \
  -c "create table mt (a int primary key, b text)" \
  -c "insert into mt values (1, 'a'), (2, 'b'), (3, 'c')" \
  -c "insert into mt values (4, 'd')" \
  -c "select * from mt" \
  -c "select b from mt where a = 2" \
  -c "begin" -c "update mt set b = 'x' where a = 1" -c "commit" \
  -c "begin" -c "delete from mt where a = 4" -c "rollback" \
  -c "select * from no_such_table" \
  -c "select 1 / 0" >"$CT/psql.out" 2>"$CT/psql.err"
grep -q 'no_such_table' "$CT/psql.err" && grep -q 'division by zero' "$CT/psql.err" ||
  fail "psql did not report the two errors: $(cat "$CT/psql.err")"
[ "$(timeout 30 psql -X -At -c 'select count(*) from mt')" = 4 ] ||
  fail "the table does not hold 4 rows after the mix"
# A failed login.
PGPASSWORD="wrong" timeout 30 psql -X -At -c "select 1" >/dev/null 2>&1 &&
  fail "a wrong password logged in"
# Sessions end asynchronously after psql exits: wait until none is open.
for _ in $(seq 1 200); do
  scrape "$M1" || break
  [ "$(val "$M1" datacave_pgwire_connections)" = 0 ] && break
  sleep 0.05
done
[ "$(val "$M1" datacave_pgwire_connections)" = 0 ] && pass "no session open at the end" ||
  fail "datacave_pgwire_connections is $(val "$M1" datacave_pgwire_connections), expected 0"

# Statements by kind: every CommandComplete; the failed ones have none.
# The count query above is one more select.
expect_delta 'datacave_pgwire_statements_total{kind="create"}' 1
expect_delta 'datacave_pgwire_statements_total{kind="insert"}' 2
expect_delta 'datacave_pgwire_statements_total{kind="select"}' 3
expect_delta 'datacave_pgwire_statements_total{kind="update"}' 1
expect_delta 'datacave_pgwire_statements_total{kind="delete"}' 1
expect_delta 'datacave_pgwire_statements_total{kind="begin"}' 2
expect_delta 'datacave_pgwire_statements_total{kind="commit"}' 1
expect_delta 'datacave_pgwire_statements_total{kind="rollback"}' 1
expect_delta 'datacave_pgwire_statements_total{kind="other"}' 0
# Errors by SQLSTATE class: 42P01, 22012, and the failed login's 28P01.
expect_delta 'datacave_pgwire_errors_total{class="42"}' 1
expect_delta 'datacave_pgwire_errors_total{class="22"}' 1
expect_delta 'datacave_pgwire_errors_total{class="28"}' 1
# Transactions: each statement outside a block is one (the two failing
# ones roll back), each block one.  Committed: create, 2 inserts, 2
# selects, the update block, the count query.
expect_delta 'datacave_sql_transactions_total{result="commit"}' 7
expect_delta 'datacave_sql_transactions_total{result="rollback"}' 3
# Rows: written by the executor (also those of the block rolled back);
# read by scans: 4 (select *) + 1 (a = 2) + 1 (update a = 1) + 1 (delete
# a = 4) + 4 (count).
expect_delta 'datacave_sql_rows_written_total{op="insert"}' 4
expect_delta 'datacave_sql_rows_written_total{op="update"}' 1
expect_delta 'datacave_sql_rows_written_total{op="delete"}' 1
expect_delta 'datacave_sql_rows_read_total' 11
# Connections and logins: the mix, the count query, the failed login.
expect_delta 'datacave_pgwire_connections_accepted_total' 3
expect_delta 'datacave_auth_attempts_total{result="ok"}' 2
expect_delta 'datacave_auth_attempts_total{result="fail"}' 1
expect_delta 'datacave_pgwire_connections_refused_total{reason="auth"}' 1
# The duration histogram saw every completed statement once.
st0="$(family_sum "$M0" datacave_pgwire_statements_total)"
st1="$(family_sum "$M1" datacave_pgwire_statements_total)"
expect_delta 'datacave_pgwire_statement_duration_seconds_count' "$((st1 - st0))"
expect_delta 'datacave_pgwire_statement_duration_seconds_bucket{le="+Inf"}' "$((st1 - st0))"
# Buckets are cumulative: never decreasing.
awk '/^datacave_pgwire_statement_duration_seconds_bucket/ { if ($2 + 0 < prev) bad = 1; prev = $2 + 0 } END { exit bad }' "$M1" &&
  pass "duration buckets are cumulative" || fail "duration buckets decrease"

# Storage: the writes went through the engine and the WAL.
d="$(awk -v a="$(val "$M0" datacave_storage_puts_total)" -v b="$(val "$M1" datacave_storage_puts_total)" 'BEGIN { print (b - a >= 5) }')"
[ "$d" = 1 ] && pass "storage puts grew by at least the 5 rows inserted and updated" ||
  fail "datacave_storage_puts_total grew by less than 5"
[ "$(val "$M1" datacave_storage_wal_fsyncs_total)" = "$(val "$M1" datacave_storage_wal_fsync_seconds_count)" ] &&
  [ "$(val "$M1" datacave_storage_wal_fsyncs_total)" != 0 ] &&
  pass "WAL fsyncs counted and timed" || fail "WAL fsync count and histogram disagree or are 0"
for l in 0 1 2 3 4 5 6; do
  grep -q "^datacave_storage_level_files{level=\"$l\"} " "$M1" &&
    grep -q "^datacave_storage_level_bytes{level=\"$l\"} " "$M1" ||
    fail "no files/bytes gauge for level $l"
done
r="$(val "$M1" datacave_storage_block_cache_hit_ratio)"
awk -v r="$r" 'BEGIN { exit !(r == "NaN" || (r + 0 >= 0 && r + 0 <= 1)) }' &&
  grep -q '^datacave_storage_block_cache_hit_ratio ' "$M1" &&
  pass "cache hit ratio $r" || fail "cache hit ratio '$r' is not NaN or in [0, 1]"
for n in datacave_storage_gets_total datacave_storage_flushes_total datacave_storage_compactions_total \
         datacave_storage_bytes_written_total 'datacave_storage_stalls_total{reason="l0"}'; do
  grep -q "^$n " "$M1" || fail "no $n"
done

# Process figures.
now="$(date +%s)"
awk -v rss="$(val "$M1" process_resident_memory_bytes)" -v fds="$(val "$M1" process_open_fds)" \
    -v max="$(val "$M1" process_max_fds)" -v st="$(val "$M1" process_start_time_seconds)" \
    -v cpu="$(val "$M1" process_cpu_seconds_total)" -v now="$now" \
    'BEGIN { exit !(rss > 1000000 && fds >= 5 && max >= fds && cpu > 0 && st > now - 3600 && st <= now + 1) }' &&
  pass "process figures are plausible" || fail "process figures: $(grep '^process_' "$M1" | tr '\n' ' ')"
grep -q '^# TYPE process_cpu_seconds_total counter' "$M1" || fail "process_cpu_seconds_total is not a counter"

# Build info: the host's version and each loaded module with its version
# (as `datacave --version` and `modules inspect` say).
ver="$("$DC" --version | awk '{ print $2 }')"
grep -q "^datacave_build_info{version=\"$ver\",abi=\"[0-9]*\\.[0-9]*\"} 1$" "$M1" &&
  pass "build info names version $ver" || fail "no datacave_build_info for version $ver"
for m in pgwire:protocol sql:sql lsm:storage password:auth none:encryption prometheus:metrics; do
  name="${m%%:*}"
  mv="$("$DC" modules inspect "$B/modules/$name.so" | head -n 1 | awk '{ print $3 }')"
  grep -qF "datacave_module_info{kind=\"${m#*:}\",name=\"$name\",version=\"$mv\"} 1" "$M1" ||
    fail "no datacave_module_info for $name $mv (${m#*:})"
done
[ "$(grep -c '^datacave_module_info{' "$M1")" = 6 ] && pass "one module_info per loaded module" ||
  fail "module_info lines: $(grep -c '^datacave_module_info{' "$M1"), expected 6"
# No family is announced twice.
dups="$(grep '^# TYPE ' "$M1" | awk '{ print $3 }' | sort | uniq -d)"
[ -z "$dups" ] && pass "no duplicate families" || fail "families announced twice: $dups"

# ---- 3. HTTP details and bad requests -----------------------------------------------
http /nope
[ "$CODE" = 404 ] && pass "unknown path: 404" || fail "unknown path answered $CODE"
http /metrics -X POST -d 'x=1'
[ "$CODE" = 405 ] && pass "POST: 405" || fail "POST /metrics answered $CODE"
allow="$(curl -s -m 10 -D - -o /dev/null -X DELETE "$URL/ready" | tr -d '\r' | awk -F': ' 'tolower($1) == "allow" { print $2 }')"
[ "$allow" = "GET, HEAD" ] && pass "405 says Allow: GET, HEAD" || fail "Allow header '$allow'"
ctype="$(curl -s -m 10 -D - -o /dev/null "$URL/metrics" | tr -d '\r' | awk -F': ' 'tolower($1) == "content-type" { print $2 }')"
[ "$ctype" = "text/plain; version=0.0.4; charset=utf-8" ] && pass "Content-Type $ctype" ||
  fail "Content-Type '$ctype'"
head_out="$(curl -s -m 10 -I -w '%{http_code}' "$URL/metrics" | tail -n 1)"
[ "$head_out" = 200 ] && pass "HEAD /metrics: 200" || fail "HEAD /metrics answered $head_out"
garbage="$(printf 'NOT HTTP AT ALL\r\n\r\n' | timeout 10 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.stdin.buffer.read())
print(s.recv(200).decode("latin-1").split("\r\n")[0])' "$M_PORT")"
case "$garbage" in
  "HTTP/1.1 400"*) pass "a malformed request gets 400" ;;
  *) fail "a malformed request got '$garbage'" ;;
esac
long="$(head -c 100000 /dev/zero | tr '\0' a)"
http "/$long"
case "$CODE" in
  4??) pass "a 100 kB request line gets $CODE" ;;
  *) fail "a 100 kB request line got $CODE" ;;
esac
http /health
[ "$CODE" = 200 ] && kill -0 "$SERVER_PID" 2>/dev/null && pass "the server is fine after the bad requests" ||
  fail "after the bad requests /health answers $CODE"

# ---- 4. a metrics address that cannot be bound stops the server at start --------
P2="$(clients_free_port)"
for addr in "127.0.0.1:$M_PORT" "127.0.0.1:notaport"; do
  write_config "$CT/second.toml" "$P2" "$addr" memory "$CT/data2"
  timeout 30 "$DC" serve --config "$CT/second.toml" >"$CT/second.log" 2>&1
  rc=$?
  if [ $rc -eq 1 ] && grep -qF "metrics.listen_addr \"$addr\"" "$CT/second.log"; then
    pass "metrics address $addr: exit 1, the message names it"
  else
    fail "metrics address $addr: status $rc (expected 1), log: $(tr '\n' ' ' <"$CT/second.log")"
  fi
  if [ "$addr" = "127.0.0.1:$M_PORT" ]; then
    grep -q 'Address already in use' "$CT/second.log" &&
      pass "the address in use is said to be in use" || fail "no 'Address already in use' in the message"
  fi
done
http /ready
[ "$CODE" = 200 ] && pass "the first server still serves its metrics" || fail "the first server's /ready: $CODE"

# ---- 5. shutdown: /ready 503 while sessions end, /health 200 ----------------------
# A client that sends a query with a 100 MB result and never reads: the
# session's thread blocks in send() and ends only when stop() cuts its
# socket after shutdown_grace_secs (3 s).
python3 - "$PG_PORT" "$USER_NAME" "$USER_PASS" >"$CT/busy.out" 2>&1 <<'EOF' &
import socket, struct, sys, time
port, user, pw = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3].encode()
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
def recv_msg():
    h = b""
    while len(h) < 5:
        h += s.recv(5 - len(h))
    n = struct.unpack("!I", h[1:5])[0] - 4
    b = b""
    while len(b) < n:
        b += s.recv(n - len(b))
    return h[:1], b
params = b"user\0" + user + b"\0database\0default\0\0"
s.sendall(struct.pack("!II", len(params) + 8, 196608) + params)
t, b = recv_msg()
assert t == b"R" and struct.unpack("!I", b[:4])[0] == 3, (t, b)  # cleartext
s.sendall(b"p" + struct.pack("!I", len(pw) + 5) + pw + b"\0")
while True:
    t, b = recv_msg()
    if t == b"E":
        print("login failed", b)
        sys.exit(1)
    if t == b"Z":
        break
q = b"select repeat('x', 1000) from generate_series(1, 100000)\0"
s.sendall(b"Q" + struct.pack("!I", len(q) + 4) + q)
print("query sent", flush=True)
time.sleep(120)
EOF
BUSY_PID=$!
# The server is blocked once a thread of it sleeps in sendto (x86_64: 44,
# aarch64: 206); it stays so until shutdown cuts the socket.
case "$(uname -m)" in
  aarch64) SENDTO=206 ;;
  *) SENDTO=44 ;;
esac
blocked=0
for _ in $(seq 1 600); do
  for t in /proc/"$SERVER_PID"/task/*; do
    read -r nr _ <"$t/syscall" 2>/dev/null || continue
    st="$(sed 's/.*) //' "$t/stat" 2>/dev/null | cut -d' ' -f1)"
    if [ "$nr" = "$SENDTO" ] && [ "$st" = S ]; then blocked=1; break; fi
  done
  [ $blocked = 1 ] && break
  kill -0 "$BUSY_PID" 2>/dev/null || break
  sleep 0.05
done
if [ $blocked != 1 ]; then
  fail "no server thread blocked sending to the client that does not read (client: $(cat "$CT/busy.out"))"
else
  pass "a session is busy sending to a client that does not read"
  scrape "$CT/m-busy.txt"
  [ "$(val "$CT/m-busy.txt" datacave_pgwire_connections)" = 1 ] && pass "one session open" ||
    fail "datacave_pgwire_connections is $(val "$CT/m-busy.txt" datacave_pgwire_connections) with one session"
  kill -TERM "$SERVER_PID"
  got503=0
  for _ in $(seq 1 400); do
    http /ready
    if [ "$CODE" = 503 ]; then got503=1; break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.02
  done
  if [ $got503 = 1 ] && printf '%s' "$BODY" | grep -q 'shutting down'; then
    pass "/ready is 503 during shutdown ($BODY)"
    http /health
    [ "$CODE" = 200 ] && pass "/health is 200 during shutdown" || fail "/health during shutdown: $CODE"
  else
    fail "/ready during shutdown: $CODE '$BODY', expected 503 'not ready: shutting down'"
  fi
fi
# The server ends on its own once the grace is over.
for _ in $(seq 1 600); do
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.05
done
if kill -0 "$SERVER_PID" 2>/dev/null; then
  fail "the server did not stop within 30 s of SIGTERM"
else
  wait "$SERVER_PID"
  rc=$?
  SERVER_PID=""
  [ $rc -eq 0 ] && pass "the server stopped with status 0" || fail "the server stopped with status $rc"
fi
http /health
[ "$CODE" = 000 ] && pass "nothing answers on the metrics port after stop" || fail "after stop /health answered $CODE"

if [ $failures -gt 0 ]; then
  echo "$failures check(s) failed"
  clients_show_log
  exit 1
fi
echo "all metrics checks passed"
