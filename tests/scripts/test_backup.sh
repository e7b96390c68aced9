#!/usr/bin/env bash
# Online backup: `datacave backup --config FILE --to DIR` against a real
# server (pgwire + sql + lsm), and servers started on the copies.
#
#   1. Deterministic: commit set A (a bulk load that makes table files, then
#      small transactions, deletes and updates left in the memtable), take a
#      backup, commit set B, stop.  A server on the copy holds exactly A:
#      the aggregates, point reads and an index scan (EXPLAIN shows it)
#      answer as the source did before the backup, nothing of B is there,
#      and the copy takes writes.  The copy's table files are hard links of
#      the source's (same inode; the source never compacts in this test),
#      plus the tables written from the memtables, as the command reports.
#      The copy lies below a path longer than a socket address can hold, so
#      the server on it and a backup of that server use the long-path route
#      to the control socket.  Malformed requests on the socket get error
#      replies and the server serves on.
#   2. Concurrent: writer processes commit transactions continuously (each
#      inserts rows into two tables and bumps a counter row, as
#      tests/clients/crash_client.py does), logging each txid when COMMIT
#      returned and, when it began, whether the backup had returned by
#      then.  A backup is taken while they run.  The copy must hold every
#      transaction acknowledged before the backup command started, each
#      transaction in full or not at all, per writer a gap-free prefix,
#      counters equal to the sums of the transactions present, and nothing
#      from a transaction that began after the backup command returned.
#   3. No server running (after a SIGKILL left a stale socket): the command
#      opens the store itself; the copy has everything committed.  A server
#      started again replaces the stale socket and serves backups.
#   4. Errors, each a message and exit status 1 (2 for usage): --to a
#      non-empty directory, a config that does not parse, a data directory
#      with no store, a storage module that cannot back up (memory), and a
#      running server whose control socket is gone (the store is locked).
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"

B="${DATACAVE_BUILD:-$ROOT/build}"
B="$(cd "$B" && pwd)"
DC="$B/bin/datacave"
PY=/usr/bin/python3

fail() { echo "FAIL: $*" >&2; show_logs; exit 1; }
[ -x "$DC" ] || { echo "FAIL: no datacave binary at $DC (make all)"; exit 1; }
for m in pgwire sql lsm password memory none; do
  [ -f "$B/modules/$m.so" ] || { echo "FAIL: module $B/modules/$m.so is not built (make all)"; exit 1; }
done
for c in pg_isready psql; do
  command -v "$c" >/dev/null 2>&1 || { echo "FAIL: '$c' is not installed (scripts/deps.sh)"; exit 1; }
done
"$PY" -c 'import psycopg2' 2>/dev/null ||
  { echo "FAIL: $PY cannot import psycopg2 (python3-psycopg2; scripts/deps.sh)"; exit 1; }

work="$(mktemp -d /tmp/datacave-backup-XXXXXX)"
SERVER_PID=""
WRITER_PIDS=()
cleanup() {
  local p
  for p in "${WRITER_PIDS[@]}" $SERVER_PID; do
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
show_logs() {
  local f
  for f in "$work"/server-*.log; do
    [ -f "$f" ] || continue
    echo "  --- $f, last lines:" >&2
    tail -n 15 "$f" | sed 's/^/  | /' >&2
  done
}

now_ms() { date +%s%3N; }
free_port() {
  "$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# make_config FILE DATA_DIR PORT [STORAGE]: a server config; memtables of a
# little over one arena block, so that a few MB make table files; no
# compaction (the inode checks below compare with the source's files).
make_config() {
  cat >"$1" <<CFG
[server]
listen_addr = "127.0.0.1:$3"
module_dir = "$B/modules"
max_connections = 50
[log]
level = "info"
[storage]
data_dir = "$2"
memtable_max_bytes = 1200000
[modules]
protocol = "pgwire"
sql = "sql"
storage = "${4:-lsm}"
auth = "password"
encryption = "none"
metrics = ""
[module.lsm]
sync = "every_commit"
l0_compaction_trigger = 100
l0_stop_writes = 200
[module.password]
method = "trust"
[[security.auth.roles]]
name = "admin"
can_read = true
can_write = true
is_admin = true
[[security.auth.users]]
username = "bk"
password_plain = "unused"
roles = ["admin"]
CFG
}

# start_server NAME CONFIG PORT: start and wait (60 s at most) until it
# accepts connections and its control socket is there (lsm only).
start_server() {
  local name="$1" cfg="$2" port="$3" dir
  "$DC" serve --config "$cfg" >"$work/server-$name.log" 2>&1 &
  SERVER_PID=$!
  export PGHOST=127.0.0.1 PGPORT="$port" PGUSER=bk PGDATABASE=default PGCONNECT_TIMEOUT=10
  unset PGPASSWORD PGSSLMODE PGSERVICE PGPASSFILE PGOPTIONS
  dir="$(sed -n 's/^data_dir = "\(.*\)"$/\1/p' "$cfg")"
  local deadline=$(( $(now_ms) + 60000 ))
  while :; do
    kill -0 "$SERVER_PID" 2>/dev/null || { wait "$SERVER_PID"; SERVER_PID=""; fail "server $name exited at start"; }
    if pg_isready -q -t 1 2>/dev/null; then
      grep -q 'storage = "lsm"' "$cfg" || return 0
      [ -S "$dir/datacave.sock" ] && return 0
    fi
    [ "$(now_ms)" -gt "$deadline" ] && fail "server $name not ready within 60 s"
    sleep 0.05
  done
}

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null
  local deadline=$(( $(now_ms) + 30000 ))
  while kill -0 "$SERVER_PID" 2>/dev/null; do
    [ "$(now_ms)" -gt "$deadline" ] && fail "server ignored SIGTERM for 30 s"
    sleep 0.05
  done
  wait "$SERVER_PID" 2>/dev/null
  local rc=$?
  SERVER_PID=""
  [ "$rc" = 0 ] || fail "the server exited with status $rc"
}

sql() { timeout 60 psql -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }

# ---- 1. deterministic ---------------------------------------------------------

echo "== set A, backup, set B"
portA="$(free_port)" || fail "no free port"
make_config "$work/a.toml" "$work/data" "$portA"
start_server a "$work/a.toml" "$portA"
sql -c "create table items (id int primary key, grp int not null, note text, pad text)" \
    -c "create index items_grp on items (grp)" || fail "create table"
# Bulk loads (table files), then small transactions, deletes and updates.
for i in 1 2 3 4; do
  sql -c "insert into items select g, g % 50, 'n' || g, repeat('p', 400)
          from generate_series($i * 10000, $i * 10000 + 1999) g" || fail "bulk insert $i"
done
for i in $(seq 1 20); do
  sql -c "insert into items values ($i, $((i % 7)), 'small', 'q')" || fail "insert $i"
done
sql -c "delete from items where id between 10100 and 10120" \
    -c "update items set note = 'upd-a' where id % 97 = 0" || fail "delete/update A"

nsst_before=$(ls "$work/data/sst" | grep -c '\.sst$')
[ "$nsst_before" -ge 1 ] || fail "set A made no table file (memtable too large for the test?)"
Q_AGG="select count(*), sum(id), sum(grp), sum(length(note)), count(*) filter (where note = 'upd-a') from items"
Q_IDX="select count(*), sum(id) from items where grp = 7"
want_agg="$(sql -c "$Q_AGG")" || fail "aggregate on the source"
want_idx="$(sql -c "$Q_IDX")" || fail "index query on the source"
want_pt="$(sql -c "select id, grp, note from items where id in (5, 10097, 20000, 40001) order by id")"
echo "source: $want_agg; grp 7: $want_idx"

# The copy goes below a long path: the server started on it later reaches
# its control socket through /proc/self/fd (longer than sun_path).
bk1="$work/$(printf 'l%.0s' $(seq 1 100))/backup1"
mkdir -p "$(dirname "$bk1")"
out="$("$DC" backup --config "$work/a.toml" --to "$bk1" 2>&1)" ||
  fail "backup while the server runs failed: $out"
echo "$out"
printf '%s' "$out" | grep -q "^backup written to $bk1: sequence [0-9]*, [0-9]* table files linked, 0 copied, [0-9]* written from memory" ||
  fail "unexpected report: $out"
reported_linked="$(printf '%s' "$out" | sed -n 's/.* \([0-9]*\) table files linked.*/\1/p')"
reported_written="$(printf '%s' "$out" | sed -n 's/.* \([0-9]*\) written from memory.*/\1/p')"

# Malformed requests on the control socket: an error reply each (or the
# connection dropped when the peer goes away), and the server serves on.
"$PY" - "$work/data/datacave.sock" <<'PY' || fail "malformed control requests"
import socket, struct, sys
def ask(raw, close_early=False):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(sys.argv[1])
    s.sendall(raw)
    if close_early:
        s.close()
        return None
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    n = struct.unpack(">I", data[:4])[0]
    assert len(data) == 4 + n, data
    return data[4:].decode()
def frame(b):
    return struct.pack(">I", len(b)) + b
for raw, want in ((b"\xff\xff\xff\xff", "error request length 4294967295 is out of range"),
                  (b"\x00\x00\x00\x00", "error request length 0 is out of range"),
                  (frame(b"hello"), 'error unknown request "hello"'),
                  (frame(b"backup relative/dir"), "error the backup directory must be an absolute path"),
                  (frame(b"backup /a\x00b"), "error the backup directory holds a NUL byte")):
    got = ask(raw)
    if not got.startswith(want):
        sys.exit("request %r: reply %r, want %r" % (raw[:20], got, want))
ask(b"\x00\x00", close_early=True)
ask(frame(b"backup /x")[:6], close_early=True)
print("malformed control requests refused")
PY
pg_isready -q -t 5 || fail "the server stopped answering after malformed control requests"

# Set B: new rows, updates and deletes of A rows.
sql -c "insert into items select g, 7, 'b', 'b' from generate_series(90001, 90010) g" \
    -c "update items set note = 'upd-b' where id % 89 = 0" \
    -c "delete from items where id between 30000 and 30049" || fail "set B"
[ "$(sql -c "select count(*) from items where id > 90000")" = 10 ] || fail "set B not visible on the source"

# Hard links: every table of the copy is the source's file (same inode),
# but the one written from the memtable.
linked=0; fresh=0
for f in "$bk1/sst/"*.sst; do
  n="$(basename "$f")"
  if [ -e "$work/data/sst/$n" ]; then
    [ "$(stat -c %i "$f")" = "$(stat -c %i "$work/data/sst/$n")" ] || fail "$f is a copy, not a link of the source's"
    [ "$(stat -c %h "$f")" -ge 2 ] || fail "$f has one link"
    linked=$((linked + 1))
  else
    fresh=$((fresh + 1))
  fi
done
[ "$linked" -ge 1 ] && [ "$linked" = "$reported_linked" ] || fail "$linked tables linked, the command reported $reported_linked"
# The memtable (and the one being flushed, if the backup came first).
[ "$fresh" -ge 1 ] && [ "$fresh" = "$reported_written" ] ||
  fail "$fresh tables in the copy are not the source's, the command reported $reported_written written from memory"
[ ! -e "$bk1/datacave.sock" ] && [ ! -e "$bk1/LOCK" ] || fail "the copy holds the socket or the lock file"
ls -a "$work" | grep -q '^\..*tmp' && fail "a build directory was left in $work"
stop_server

echo "== a server on the copy"
portB="$(free_port)" || fail "no free port"
make_config "$work/b.toml" "$bk1" "$portB"
start_server b "$work/b.toml" "$portB"
got_agg="$(sql -c "$Q_AGG")" || fail "aggregate on the copy"
[ "$got_agg" = "$want_agg" ] || fail "copy aggregates: $got_agg, source before the backup: $want_agg"
got_pt="$(sql -c "select id, grp, note from items where id in (5, 10097, 20000, 40001) order by id")"
[ "$got_pt" = "$want_pt" ] || fail "copy point reads: $got_pt, want $want_pt"
sql -c "explain $Q_IDX" | grep -q "Index Scan using items_grp" || fail "the copy's planner does not use the index: $(sql -c "explain $Q_IDX")"
got_idx="$(sql -c "$Q_IDX")"
[ "$got_idx" = "$want_idx" ] || fail "copy grp 7 through the index: $got_idx, want $want_idx"
[ "$(sql -c "select count(*) from items where id > 90000 or note = 'upd-b'")" = 0 ] || fail "set B rows in the copy"
[ "$(sql -c "select count(*) from items where id between 30000 and 30049")" = 50 ] || fail "rows deleted by set B are missing from the copy"
sql -c "insert into items values (99999, 1, 'copy', 'c')" || fail "the copy refuses a write"
[ "$(sql -c "select note from items where id = 99999")" = copy ] || fail "write to the copy not visible"
# A backup of the copy, through the socket of its long path.
out="$("$DC" backup --config "$work/b.toml" --to "$work/backup1b" 2>&1)" ||
  fail "backup of the server on the copy failed: $out"
printf '%s' "$out" | grep -q "no server was running" && fail "the server on the copy was not reached: $out"
stop_server

# ---- 2. concurrent -----------------------------------------------------------

cat >"$work/writer.py" <<'PY'
import os, sys, psycopg2
cmd = sys.argv[1]
if cmd == "setup":
    conn = psycopg2.connect("")
    cur = conn.cursor()
    cur.execute("create table conc_a (txid bigint not null, k int not null, n int not null, primary key (txid, k))")
    cur.execute("create table conc_b (txid bigint not null, k int not null, n int not null, primary key (txid, k))")
    cur.execute("create table conc_counter (w int primary key, txns bigint not null, nrows bigint not null)")
    for w in range(1, int(sys.argv[2]) + 1):
        cur.execute("insert into conc_counter values (%s, 0, 0)", (w,))
    conn.commit()
elif cmd == "run":
    # run W LOG DONE_FILE STOP_FILE: txid W * 10**6 + q; before each
    # transaction "B txid 0|1" (1: the backup had returned), after COMMIT
    # "A txid".
    w, log, done, stop = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    conn = psycopg2.connect("")
    cur = conn.cursor()
    f = open(log, "a", buffering=1)
    q = 0
    while not os.path.exists(stop):
        q += 1
        txid = w * 10**6 + q
        na, nb = 1 + q % 3, 1 + (q * 7) % 4
        f.write("B %d %d\n" % (txid, 1 if os.path.exists(done) else 0))
        cur.execute("insert into conc_a values " + ", ".join(["(%s, %s, %s)"] * na),
                    [v for k in range(1, na + 1) for v in (txid, k, na)])
        for k in range(1, nb + 1):
            cur.execute("insert into conc_b values (%s, %s, %s)", (txid, k, nb))
        cur.execute("update conc_counter set txns = txns + 1, nrows = nrows + %s where w = %s",
                    (na + nb, w))
        if cur.rowcount != 1:
            sys.exit("writer %d: the counter update changed %d rows" % (w, cur.rowcount))
        conn.commit()
        f.write("A %d\n" % txid)
    f.close()
elif cmd == "verify":
    # verify ACKED_BEFORE LOG...: see the script's header.
    acked_before = {int(l.split()[1]) for l in open(sys.argv[2]) if l.startswith("A ")}
    began_after = set()
    for path in sys.argv[3:]:
        for l in open(path):
            p = l.split()
            if p[0] == "B" and p[2] == "1":
                began_after.add(int(p[1]))
    conn = psycopg2.connect("")
    cur = conn.cursor()
    rows = {}
    for t in ("conc_a", "conc_b"):
        cur.execute("select txid, count(*), min(k), max(k), min(n), max(n) from %s group by txid" % t)
        rows[t] = {r[0]: r[1:] for r in cur.fetchall()}
    present = set(rows["conc_a"]) | set(rows["conc_b"])
    bad = []
    want = {}
    for txid in sorted(present):
        total = 0
        for t in ("conc_a", "conc_b"):
            got = rows[t].get(txid)
            if got is None or not (got[3] == got[4] == got[0] and got[1] == 1 and got[2] == got[0]):
                bad.append("txid %d in part: %s %s" % (txid, t, got))
            else:
                total += got[0]
        w = txid // 10**6
        t_, r_ = want.get(w, (0, 0))
        want[w] = (t_ + 1, r_ + total)
    for txid in sorted(acked_before - present):
        bad.append("txid %d acknowledged before the backup started, missing" % txid)
    for txid in sorted(began_after & present):
        bad.append("txid %d began after the backup returned, present" % txid)
    by_w = {}
    for txid in present:
        by_w.setdefault(txid // 10**6, []).append(txid % 10**6)
    for w, qs in by_w.items():
        qs.sort()
        if qs != list(range(1, len(qs) + 1)):
            bad.append("writer %d: transactions present are not 1..%d" % (w, len(qs)))
    cur.execute("select w, txns, nrows from conc_counter")
    counters = {w: (txns, nrows) for w, txns, nrows in cur.fetchall()}
    for w in set(counters) | set(want):
        if counters.get(w) != want.get(w, (0, 0)):
            bad.append("writer %d: counter %s (txns, rows), present %s" % (w, counters.get(w), want.get(w)))
    for b in bad[:20]:
        print("FAIL: " + b)
    if bad:
        sys.exit(1)
    print("ok: %d transactions in the copy, %d acknowledged before the backup, %d began after it"
          % (len(present), len(acked_before), len(began_after)))
PY

echo "== backup under concurrent writers"
NW=3
start_server a "$work/a.toml" "$portA"
"$PY" "$work/writer.py" setup "$NW" || fail "writer setup"
WRITER_PIDS=()
for ((w = 1; w <= NW; w++)); do
  "$PY" "$work/writer.py" run "$w" "$work/log.$w" "$work/backup.done" "$work/stop" 2>"$work/writer.$w.err" &
  WRITER_PIDS+=($!)
done
# acked W: transactions writer W has committed so far.
acked() { local n; n=$(grep -c '^A ' "$work/log.$1" 2>/dev/null); echo "${n:-0}"; }
after() { local n; n=$(grep -c '^B .* 1$' "$work/log.$1" 2>/dev/null); echo "${n:-0}"; }
check_writers() {
  local p
  for p in "${WRITER_PIDS[@]}"; do
    kill -0 "$p" 2>/dev/null || { cat "$work"/writer.*.err >&2; fail "a writer exited early"; }
  done
}
deadline=$(( $(now_ms) + 60000 ))
while :; do
  ok=1
  for ((w = 1; w <= NW; w++)); do [ "$(acked $w)" -ge 20 ] || ok=0; done
  [ $ok = 1 ] && break
  check_writers
  [ "$(now_ms)" -gt "$deadline" ] && fail "writers did not commit 20 transactions each within 60 s"
  sleep 0.02
done
cat "$work"/log.* >"$work/acked_before"
out="$("$DC" backup --config "$work/a.toml" --to "$work/backup2" 2>&1)" ||
  fail "backup under writers failed: $out"
touch "$work/backup.done"
echo "$out"
# Until each writer has begun 10 transactions after the backup returned.
deadline=$(( $(now_ms) + 60000 ))
while :; do
  ok=1
  for ((w = 1; w <= NW; w++)); do [ "$(after $w)" -ge 10 ] || ok=0; done
  [ $ok = 1 ] && break
  check_writers
  [ "$(now_ms)" -gt "$deadline" ] && fail "writers did not go on after the backup within 60 s"
  sleep 0.02
done
touch "$work/stop"
for p in "${WRITER_PIDS[@]}"; do
  wait "$p" || { cat "$work"/writer.*.err >&2; fail "a writer failed"; }
done
WRITER_PIDS=()
total_acked=$(cat "$work"/log.* | grep -c '^A ')

# The socket gone while the server runs: the store is locked, the command
# says so.
rm -f "$work/data/datacave.sock"
out="$("$DC" backup --config "$work/a.toml" --to "$work/backup-x" 2>&1)" && fail "backup without the control socket succeeded: $out"
printf '%s' "$out" | grep -q "in use by a running server" || fail "no clear message without the control socket: $out"
[ ! -e "$work/backup-x" ] || fail "a refused backup left $work/backup-x"
stop_server

portC="$(free_port)" || fail "no free port"
make_config "$work/c.toml" "$work/backup2" "$portC"
start_server c "$work/c.toml" "$portC"
"$PY" "$work/writer.py" verify "$work/acked_before" "$work"/log.* || fail "the concurrent backup is not a consistent cut"
stop_server

# ---- 3. no server running -----------------------------------------------------

echo "== backup with no server running"
# A server killed leaves its socket behind: nobody answers on it.
start_server a "$work/a.toml" "$portA"
kill -KILL "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
[ -S "$work/data/datacave.sock" ] || fail "no stale socket after SIGKILL (the test needs one)"
out="$("$DC" backup --config "$work/a.toml" --to "$work/backup3" 2>&1)" || fail "offline backup failed: $out"
echo "$out"
printf '%s' "$out" | grep -q "no server was running" || fail "the offline backup does not say it opened the store: $out"
# A new server replaces the stale socket and serves backups again.
start_server a "$work/a.toml" "$portA"
out="$("$DC" backup --config "$work/a.toml" --to "$work/backup4" 2>&1)" || fail "backup after a restart failed: $out"
printf '%s' "$out" | grep -q "no server was running" && fail "the restarted server did not serve the backup: $out"
stop_server
portD="$(free_port)" || fail "no free port"
make_config "$work/d.toml" "$work/backup3" "$portD"
start_server d "$work/d.toml" "$portD"
[ "$(sql -c "select count(*) from items where id > 90000")" = 10 ] || fail "set B missing from the offline backup"
n="$(sql -c "select sum(txns) from conc_counter")"
[ "$n" = "$total_acked" ] || fail "offline backup holds $n writer transactions, $total_acked were committed"
stop_server

# ---- 4. errors ------------------------------------------------------------------

echo "== errors"
expect_fail() { # expect_fail STATUS PATTERN ARGS...
  local want="$1" pat="$2" out rc
  shift 2
  out="$("$DC" backup "$@" 2>&1)"; rc=$?
  [ "$rc" = "$want" ] || fail "datacave backup $*: exit $rc, want $want: $out"
  printf '%s' "$out" | grep -q -- "$pat" || fail "datacave backup $*: no '$pat' in: $out"
  echo "refused as expected: $(printf '%s' "$out" | head -n 1)"
}
expect_fail 1 "exists and is not empty" --config "$work/a.toml" --to "$bk1"
printf 'x = [\n' >"$work/bad.toml"
expect_fail 1 "bad.toml" --config "$work/bad.toml" --to "$work/backup-y"
make_config "$work/nostore.toml" "$work/nostore" "$portD"
expect_fail 1 "no store in" --config "$work/nostore.toml" --to "$work/backup-y"
[ ! -e "$work/nostore" ] || fail "a backup of no store created $work/nostore"
make_config "$work/mem.toml" "$work/memdata" "$portD" memory
expect_fail 1 "cannot make backups" --config "$work/mem.toml" --to "$work/backup-y"
expect_fail 2 "needs --config FILE and --to DIR" --config "$work/a.toml"
[ ! -e "$work/backup-y" ] || fail "a refused backup left $work/backup-y"
ls -a "$work" | grep -q '^\..*tmp' && fail "a build directory was left in $work"

echo "ok: backup tests passed"
