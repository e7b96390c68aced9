#!/usr/bin/env bash
# tests/scripts/test_audit.sh - the audit log ([security.audit]) and the
# slow statement log ([log] slow_query_ms) of a real `datacave serve`
# (pgwire, sql, memory storage, password auth with SCRAM users: an admin
# and a reader).
#
# Run 1, audit on (default path: audit.log in the data directory) and
# slow_query_ms = 0 (every statement is logged): a login, a failed login
# (wrong password), statements (one with quotes and a newline), a
# multi-statement Query (one line per statement with its rows, one
# connection), COPY FROM STDIN, a Query whose second statement fails (the third never
# runs), a Query that does not parse, an error, a permission denial (the
# reader writes: 42501), and the extended protocol (pgbench -M extended:
# the prepared text, its rows, never the parameter values).  Every line
# must be one JSON object with every key; the values are checked against
# what was done.  The slow log must show each statement with its duration
# and the plan EXPLAIN gives for it.  Then logrotate's way: the file is
# renamed, SIGHUP, and the next statement goes to a new audit.log while
# the renamed file keeps the earlier lines.
# Run 2, audit and slow log off (the defaults): no audit file, no slow
# statement line.  Run 3: [security.audit] path is honoured (relative to
# the data directory).  And check-config refuses a bad slow_query_ms.
# Run by tests/run.sh from the repository root; exits 1 on any failure.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
source "$ROOT/tests/clients/lib.sh"

PGBENCH="${PGBENCH:-$PG_BIN/pgbench}"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

clients_init
clients_need psql python3 pg_isready
[ -x "$PGBENCH" ] || { echo "FAIL: no pgbench at $PGBENCH (package postgresql-15)"; exit 1; }
clients_need_built memory || exit 1

hash="$("$DC" gen-password-hash --password "$CLIENT_PASSWORD" 2>/dev/null | grep '^SCRAM-SHA-256\$' | tail -n 1)"
rhash="$("$DC" gen-password-hash --password "$READER_PASSWORD" 2>/dev/null | grep '^SCRAM-SHA-256\$' | tail -n 1)"
[ -n "$hash" ] && [ -n "$rhash" ] || { echo "FAIL: gen-password-hash printed no SCRAM secret"; exit 1; }

# write_config FILE DATA_DIR PORT EXTRA_TOML
write_config() {
  cat >"$1" <<EOF
[server]
listen_addr = "127.0.0.1:$3"
module_dir = "$B/modules"

[modules]
protocol = "pgwire"
sql = "sql"
storage = "memory"
auth = "password"
encryption = "none"
metrics = ""

[storage]
data_dir = "$2"

[security.auth]
enabled = true

[[security.auth.roles]]
name = "admin"
can_read = true
can_write = true
is_admin = true

[[security.auth.roles]]
name = "reader"
can_read = true
can_write = false
is_admin = false

[[security.auth.users]]
username = "$CLIENT_USER"
password_hash = "$hash"
roles = ["admin"]

[[security.auth.users]]
username = "$READER_USER"
password_hash = "$rhash"
roles = ["reader"]

$4
EOF
}

# start NAME EXTRA_TOML: a server with data directory $CT/NAME; sets
# DATA, SERVER_LOG, SERVER_PID and the libpq environment.
start() {
  local port
  port="$(clients_free_port)" || { echo "FAIL: no free port"; exit 1; }
  DATA="$CT/$1"
  SERVER_LOG="$CT/$1.log"
  write_config "$CT/$1.toml" "$DATA" "$port" "$2"
  "$DC" serve --config "$CT/$1.toml" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  if ! _wait_ready "$port"; then
    echo "FAIL: the server did not accept connections within 30 s"
    clients_show_log
    exit 1
  fi
  _export_conn "$port"
  export PGDATABASE=default
}

# stop: SIGTERM the server; a sanitizer report in its log is a failure.
stop() {
  clients_stop
  if grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$SERVER_LOG"; then
    fail "sanitizer report in $SERVER_LOG"
    grep -A 20 -E "AddressSanitizer|LeakSanitizer|runtime error" "$SERVER_LOG" | head -n 40 | sed 's/^/  | /'
  fi
}

# q SQL [psql options]: one Query as the admin user; output in $CT/out.
q() {
  local sql="$1"
  shift
  timeout 30 psql -X -At "$@" -c "$sql" >"$CT/out" 2>&1
}

# ==== run 1: audit on, every statement in the slow log =======================

start run1 "[log]
slow_query_ms = 0

[security.audit]
enabled = true"
AUDIT="$DATA/audit.log"

[ -f "$AUDIT" ] && ok "audit.log created in the data directory" ||
  fail "no $AUDIT after start"
mode="$(stat -c %a "$AUDIT" 2>/dev/null)"
[ "$mode" = 600 ] && ok "audit.log has mode 0600" || fail "audit.log has mode '$mode', expected 600"

CREATE="CREATE TABLE t (id int PRIMARY KEY, v text)"
INS="INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')"
UPD="UPDATE t SET v = 'z' WHERE id >= 2"
SEL="SELECT * FROM t ORDER BY id"
JOIN="SELECT a.v FROM t a JOIN t b ON a.id = b.id WHERE a.id > 1"
STRANGE=$'SELECT \'it\'\'s\' AS "q""x",\n\t\'two\nlines\' AS y'
MISSING="SELECT * FROM no_such_table"
DENIED="INSERT INTO t VALUES (9, 'x')"
READ="SELECT count(*) FROM t"
GROUP_OK="SELECT 10"
GROUP_BAD="SELECT 1 / 0"
GROUP_NEVER="SELECT 30"
BADSQL="SELEC 1"

q "$CREATE" || fail "create table: $(cat "$CT/out")"
q "$INS; $UPD; $SEL" || fail "multi-statement query: $(cat "$CT/out")"
q "$JOIN" || fail "join: $(cat "$CT/out")"
join_rows="$(wc -l <"$CT/out")"
q "EXPLAIN $JOIN" || fail "explain: $(cat "$CT/out")"
cp "$CT/out" "$CT/join_plan"
q "$STRANGE" || fail "strange text: $(cat "$CT/out")"
# COPY FROM STDIN: its data arrives after the Query (a long row, larger
# than the Query's message); the line still has the Query's text.
COPY="COPY t FROM STDIN"
{ printf '10\t%s\n' "$(head -c 20000 /dev/zero | tr '\0' x)"; printf '11\tshort\n'; } >"$CT/copy.tsv"
q "$COPY" <"$CT/copy.tsv" || fail "copy: $(cat "$CT/out")"
q "$MISSING" && fail "select from a missing table succeeded"
q "$GROUP_OK; $GROUP_BAD; $GROUP_NEVER" && fail "1 / 0 succeeded"
q "$BADSQL" && fail "'$BADSQL' succeeded"
PGUSER="$READER_USER" PGPASSWORD="$READER_PASSWORD" q "$DENIED" &&
  fail "the reader could insert"
grep -q 42501 "$CT/out" || grep -q "permission denied" "$CT/out" ||
  fail "the reader's insert failed for another reason: $(cat "$CT/out")"
PGUSER="$READER_USER" PGPASSWORD="$READER_PASSWORD" q "$READ" ||
  fail "the reader could not read: $(cat "$CT/out")"
PGPASSWORD="wrong password" q "SELECT 'never'" && fail "a wrong password logged in"

# The extended protocol: pgbench sends each command as Parse/Bind/Execute
# with :k as $1.
cat >"$CT/ext.sql" <<'EOF'
\set k 424242
SELECT v FROM t WHERE id = :k OR id = 1;
UPDATE t SET v = 'e' WHERE id <= 2 OR id = :k;
EOF
timeout 60 "$PGBENCH" -n -t 1 -c 1 -M extended -f "$CT/ext.sql" >"$CT/pgbench.out" 2>&1 ||
  { fail "pgbench -M extended failed"; sed 's/^/  | /' "$CT/pgbench.out"; }
EXT_SEL="SELECT v FROM t WHERE id = \$1 OR id = 1;"
EXT_UPD="UPDATE t SET v = 'e' WHERE id <= 2 OR id = \$1;"

# The lines checked against what was done above.
cat >"$CT/check1.py" <<'EOF'
import json, os, re, sys
path = sys.argv[1]
E = os.environ
KEYS = ["time", "kind", "connection_id", "user", "database", "client_addr",
        "method", "statement", "statement_truncated", "command", "sqlstate",
        "message", "rows", "duration_ms"]
errors = []
def err(m): errors.append(m)
raw = open(path, "rb").read()
lines = []
for n, b in enumerate(raw.split(b"\n")[:-1], 1):
    try:
        o = json.loads(b.decode("utf-8"))
    except Exception as e:
        err("line %d is not JSON (%s): %r" % (n, e, b[:200])); continue
    if not isinstance(o, dict) or list(o.keys()) != KEYS:
        err("line %d keys %s" % (n, list(o.keys()) if isinstance(o, dict) else o)); continue
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["time"]):
        err("line %d time %r" % (n, o["time"]))
    if o["kind"] not in ("login", "statement"): err("line %d kind %r" % (n, o["kind"]))
    if o["client_addr"] != "127.0.0.1": err("line %d client_addr %r" % (n, o["client_addr"]))
    if o["database"] != "default": err("line %d database %r" % (n, o["database"]))
    if not isinstance(o["connection_id"], int) or o["connection_id"] <= 0:
        err("line %d connection_id %r" % (n, o["connection_id"]))
    if not (isinstance(o["duration_ms"], (int, float)) and o["duration_ms"] >= 0):
        err("line %d duration_ms %r" % (n, o["duration_ms"]))
    if (o["sqlstate"] == "00000") != (o["message"] is None):
        err("line %d: sqlstate %s with message %r" % (n, o["sqlstate"], o["message"]))
    lines.append(o)
if not raw.endswith(b"\n"): err("the file does not end with a newline")
if b"424242" in raw: err("a parameter value is in the audit log")

def stmt(text, **want):
    got = [o for o in lines if o["kind"] == "statement" and o["statement"] == text]
    if len(got) != 1:
        err("%d lines for statement %r, expected 1" % (len(got), text)); return None
    o = got[0]
    for k, v in want.items():
        if o[k] != v: err("statement %r: %s is %r, expected %r" % (text, k, o[k], v))
    if o["method"] is not None: err("statement %r has a method" % text)
    return o

def login_of(o):
    got = [l for l in lines if l["kind"] == "login" and l["connection_id"] == o["connection_id"]]
    if len(got) != 1 or got[0]["sqlstate"] != "00000" or got[0]["user"] != o["user"]:
        err("connection %d of %r: login lines %r" % (o["connection_id"], o["statement"], got))

admin, reader = E["CLIENT_USER"], E["READER_USER"]
c = stmt(E["CREATE"], user=admin, sqlstate="00000", command="CREATE TABLE", rows=0)
if c: login_of(c)
i = stmt(E["INS"], user=admin, sqlstate="00000", command="INSERT 0 3", rows=3)
u = stmt(E["UPD"], user=admin, sqlstate="00000", command="UPDATE 2", rows=2)
s = stmt(E["SEL"], user=admin, sqlstate="00000", command="SELECT 3", rows=3)
if i and u and s:
    if not (i["connection_id"] == u["connection_id"] == s["connection_id"]):
        err("the statements of one Query have different connection ids")
    if c and c["connection_id"] == i["connection_id"]:
        err("two psql runs share a connection id")
    login_of(i)
n = int(E["JOIN_ROWS"])
stmt(E["JOIN"], sqlstate="00000", command="SELECT %d" % n, rows=n)
stmt(E["STRANGE"], sqlstate="00000", command="SELECT 1", rows=1)
stmt(E["COPY"], sqlstate="00000", command="COPY 2", rows=2)
m = stmt(E["MISSING"], sqlstate="42P01", command=None, rows=0)
if m and "no_such_table" not in (m["message"] or ""): err("42P01 message %r" % m["message"])
stmt(E["GROUP_OK"], sqlstate="00000", rows=1)
stmt(E["GROUP_BAD"], sqlstate="22012", command=None, rows=0)
if any(o["statement"] == E["GROUP_NEVER"] for o in lines):
    err("a statement after the failed one was logged")
stmt(E["BADSQL"], sqlstate="42601", command=None)
d = stmt(E["DENIED"], user=reader, sqlstate="42501", command=None, rows=0)
if d: login_of(d)
stmt(E["READ"], user=reader, sqlstate="00000", command="SELECT 1", rows=1)
es = stmt(E["EXT_SEL"], user=admin, sqlstate="00000", command="SELECT 1", rows=1)
eu = stmt(E["EXT_UPD"], user=admin, sqlstate="00000", command="UPDATE 2", rows=2)
if es and eu and es["connection_id"] != eu["connection_id"]:
    err("pgbench's statements have different connection ids")

bad = [o for o in lines if o["kind"] == "login" and o["sqlstate"] != "00000"]
if len(bad) != 1 or bad[0]["user"] != admin or bad[0]["sqlstate"] != "28P01" \
        or bad[0]["method"] != "scram-sha-256" or not bad[0]["message"] \
        or bad[0]["statement"] is not None or bad[0]["rows"] is not None:
    err("failed logins: %r" % bad)
good = [o for o in lines if o["kind"] == "login" and o["sqlstate"] == "00000"]
if not good or any(o["method"] != "scram-sha-256" for o in good):
    err("successful logins: %r" % good)
if any(l["statement"] == "SELECT 'never'" for l in lines):
    err("the statement of the failed login was logged")
for e in errors: print("  " + e)
print("%d lines checked, %d problems" % (len(lines), len(errors)))
sys.exit(1 if errors else 0)
EOF
export CREATE INS UPD SEL JOIN STRANGE COPY MISSING DENIED READ GROUP_OK GROUP_BAD \
  GROUP_NEVER BADSQL EXT_SEL EXT_UPD CLIENT_USER READER_USER
JOIN_ROWS="$join_rows" python3 "$CT/check1.py" "$AUDIT" >"$CT/check1.out" 2>&1 &&
  ok "audit lines: $(tail -n 1 "$CT/check1.out")" ||
  { fail "audit lines"; sed 's/^/  | /' "$CT/check1.out"; sed 's/^/  > /' "$AUDIT"; }

# The slow log (threshold 0): the join with its duration and its plan as
# EXPLAIN shows it (lines joined by " | "); the extended SELECT with its
# plan; a statement that failed before planning, with no plan.
cat >"$CT/check_slow.py" <<'EOF'
import os, re, sys
log = open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines()
plan = " | ".join(open(sys.argv[2]).read().splitlines())
E = os.environ
errors = []
def line_of(text):
    got = [l for l in log if "slow statement:" in l and
           ("; statement: %s; plan: " % text.rstrip(";")) in l]
    if len(got) != 1:
        errors.append("%d slow log lines for %r" % (len(got), text)); return ""
    if not re.search(r"slow statement: duration \d+\.\d{3} ms; user \S+; database default; sqlstate \w{5}; ", got[0]):
        errors.append("slow log line: %r" % got[0])
    return got[0]
l = line_of(E["JOIN"])
if l and not l.endswith("; plan: " + plan):
    errors.append("join: plan %r, expected %r" % (l.split("; plan: ")[-1], plan))
l = line_of(E["EXT_SEL"])
if l and "; plan: Seq Scan on t" not in l and "Index Scan" not in l:
    errors.append("extended select: %r" % l)
line_of(E["COPY"])
l = line_of(E["MISSING"])
if l and ("sqlstate 42P01" not in l or not l.endswith("; plan: none")):
    errors.append("failed statement: %r" % l)
if not plan: errors.append("EXPLAIN printed nothing")
for e in errors: print("  " + e)
sys.exit(1 if errors else 0)
EOF
python3 "$CT/check_slow.py" "$SERVER_LOG" "$CT/join_plan" >"$CT/check_slow.out" 2>&1 &&
  ok "slow statement log: duration, statement and plan" ||
  { fail "slow statement log"; sed 's/^/  | /' "$CT/check_slow.out"; grep 'slow statement' "$SERVER_LOG" | sed 's/^/  > /'; }

# logrotate: rename, SIGHUP, the next statement goes to a new file.
before="$(wc -l <"$AUDIT")"
mv "$AUDIT" "$AUDIT.1"
kill -HUP "$SERVER_PID"
reopened=0
for _ in $(seq 1 100); do
  if [ -f "$AUDIT" ] && grep -q "audit log .* reopened" "$SERVER_LOG"; then
    reopened=1
    break
  fi
  sleep 0.1
done
if [ "$reopened" = 1 ]; then
  ok "SIGHUP reopened the audit log"
  AFTER="SELECT 'after rotation'"
  q "$AFTER" || fail "statement after SIGHUP: $(cat "$CT/out")"
  grep -qF "\"statement\":\"$AFTER\"" "$AUDIT" &&
    ok "the statement after SIGHUP is in the new audit.log" ||
    { fail "the new audit.log lacks the statement after SIGHUP"; sed 's/^/  > /' "$AUDIT"; }
  grep -qF "\"statement\":\"$AFTER\"" "$AUDIT.1" &&
    fail "the statement after SIGHUP went to the renamed file"
  [ "$(wc -l <"$AUDIT.1")" = "$before" ] && grep -qF '"statement":"CREATE TABLE' "$AUDIT.1" &&
    ok "the renamed file keeps the $before earlier lines" ||
    fail "the renamed file has $(wc -l <"$AUDIT.1") lines, expected $before"
  kill -0 "$SERVER_PID" 2>/dev/null || fail "the server died after SIGHUP"
else
  fail "no new audit.log within 10 s of SIGHUP"
  clients_show_log
fi
stop

# ==== run 2: the defaults: no audit file, no slow statement line ============

start run2 ""
q "SELECT 1" || fail "run 2: $(cat "$CT/out")"
stop
if [ -e "$DATA/audit.log" ]; then
  fail "audit off: $DATA/audit.log exists"
else
  ok "audit off: no file created"
fi
grep -q "slow statement" "$SERVER_LOG" && fail "slow log off, yet a slow statement line" ||
  ok "slow log off by default"
grep -q "audit log" "$SERVER_LOG" && fail "audit off, yet the server names an audit log"

# ==== run 3: [security.audit] path ==========================================

start run3 "[security.audit]
enabled = true
path = \"logs/custom.jsonl\""
q "SELECT 'custom path'" || fail "run 3: $(cat "$CT/out")"
stop
if [ -f "$DATA/logs/custom.jsonl" ] && [ ! -e "$DATA/audit.log" ] &&
   grep -qF '"statement":"SELECT '"'"'custom path'"'"'"' "$DATA/logs/custom.jsonl" &&
   grep -qF '"kind":"login"' "$DATA/logs/custom.jsonl"; then
  ok "path option: the log is <data_dir>/logs/custom.jsonl"
else
  fail "path option not honoured"
  ls -R "$DATA" | sed 's/^/  | /'
fi

# ==== config checks ==========================================================

write_config "$CT/bad.toml" "$CT/bad" 1 "[log]
slow_query_ms = -2"
if "$DC" check-config --config "$CT/bad.toml" >"$CT/bad.out" 2>&1; then
  fail "check-config accepted slow_query_ms = -2"
else
  grep -q "slow_query_ms must be between -1" "$CT/bad.out" &&
    ok "check-config refuses slow_query_ms = -2" ||
    { fail "check-config message"; sed 's/^/  | /' "$CT/bad.out"; }
fi

if [ "$failures" -gt 0 ]; then
  echo "test_audit: $failures failure(s)"
  exit 1
fi
echo "test_audit: all checks passed"
