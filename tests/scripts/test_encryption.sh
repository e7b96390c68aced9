#!/usr/bin/env bash
# tests/scripts/test_encryption.sh - encryption at rest through the real
# server (`datacave serve`: pgwire + sql + lsm + the `aes-gcm` module).
#
#  1. The same workload runs twice, with [modules] encryption = "none" and
#     then "aes-gcm": distinctive strings in a text primary key, a text
#     column with a secondary index, updates and deletes, enough rows for
#     several memtable flushes and compactions (64 KiB memtables), and a
#     last insert left only in the WAL.  Tables are not compressed, so
#     that plaintext would show as it is.  After a clean stop every regular
#     file of the data directory is searched for the strings: with "none"
#     they are found in the tables, the manifest (its smallest/largest
#     keys) and the WAL (which proves the search works and covers those
#     files); with "aes-gcm" in none, and every file names the key id.
#  2. Start-up refusals, each with its message: no key, malformed base64,
#     a 16-byte key, a key file readable by others (0644), an environment
#     variable that is not set, aes-gcm with encryption_enabled = false,
#     the wrong key, the "none" module on the encrypted store.
#     A backup (`datacave backup`, when the command exists) holds no
#     plaintext either and opens with the same key.
#  3. Tampering (on copies of the store; the CRC is recomputed so that
#     only authentication can catch it): a manifest record and a WAL record
#     stop the start naming the file; table blocks changed under a running
#     server fail the query that reads them, naming the file.
#  4. Rotation: a new current key from an environment variable with the
#     old key retired; the data reads back, background compaction rewrites
#     every table (bounded wait for the server's log line), every file
#     header then names the new key id; then the new key alone opens the
#     store and the rows are all there.
#  5. Encrypting the store written in the clear in 1: refused without
#     encryption_allow_plaintext; with it the store opens, compaction
#     rewrites the tables, and afterwards (allow_plaintext off again) no
#     file holds the strings any more.
# Every wait is bounded.  Prints each failed check; exit 1 when one failed.
set -u

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
B="${DATACAVE_BUILD:-$ROOT/build}"
B="$(cd "$B" && pwd)"
DC="$B/bin/datacave"

fail_now() { echo "FAIL: $*"; exit 1; }
[ -x "$DC" ] || fail_now "no datacave binary at $DC (make all)"
for m in pgwire sql lsm password none aes-gcm; do
  [ -f "$B/modules/$m.so" ] || fail_now "module $B/modules/$m.so is not built (make all)"
done
for c in psql pg_isready python3 openssl od; do
  command -v "$c" >/dev/null 2>&1 || fail_now "'$c' is not installed (scripts/deps.sh)"
done

work="$(mktemp -d /tmp/datacave-enc-XXXXXX)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

port="$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')" || fail_now "could not find a free port"
mport="$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')" || fail_now "could not find a free port"
export PGHOST=127.0.0.1 PGPORT="$port" PGUSER=enc PGDATABASE=default PGCONNECT_TIMEOUT=10
unset PGPASSWORD PGSSLMODE PGSSLROOTCERT PGSERVICE PGPASSFILE PGOPTIONS PGAPPNAME

now_ms() { date +%s%3N; }

# config DATA_DIR MODULE STORAGE_LINES: write $work/dc.toml.
config() {
  cat >"$work/dc.toml" <<CFG
[server]
listen_addr = "127.0.0.1:$port"
module_dir = "$B/modules"
[log]
level = "info"
[storage]
data_dir = "$1"
memtable_max_bytes = 65536
sstable_target_bytes = 65536
compaction_interval_secs = 1
$3
[metrics]
listen_addr = "127.0.0.1:$mport"
[modules]
protocol = "pgwire"
sql = "sql"
storage = "lsm"
auth = "password"
encryption = "$2"
metrics = "${METRICS:-}"
[module.lsm]
l0_compaction_trigger = 2
compression = "none"
[module.password]
method = "trust"
[[security.auth.roles]]
name = "admin"
can_read = true
can_write = true
is_admin = true
[[security.auth.users]]
username = "enc"
password_plain = "unused"
roles = ["admin"]
CFG
}

# start LOG: start the server in the background; 0 once it accepts
# connections, 1 (status in START_RC) when it exits first.  120 s at most
# (recovery under the sanitizer build is slow).
start() {
  SERVER_LOG="$1"
  "$DC" serve --config "$work/dc.toml" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  local deadline=$(( $(now_ms) + 120000 ))
  while :; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      wait "$SERVER_PID"
      START_RC=$?
      SERVER_PID=""
      return 1
    fi
    pg_isready -q -t 1 2>/dev/null && return 0
    if [ "$(now_ms)" -gt "$deadline" ]; then
      kill -KILL "$SERVER_PID" 2>/dev/null
      wait "$SERVER_PID" 2>/dev/null
      SERVER_PID=""
      START_RC=124
      return 1
    fi
    sleep 0.1
  done
}

# stop: SIGTERM, wait 60 s at most for a clean exit.
stop() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null
  local deadline=$(( $(now_ms) + 60000 ))
  while kill -0 "$SERVER_PID" 2>/dev/null; do
    if [ "$(now_ms)" -gt "$deadline" ]; then
      kill -KILL "$SERVER_PID" 2>/dev/null
      fail "the server did not stop within 60 s of SIGTERM"
      break
    fi
    sleep 0.05
  done
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=""
}

show_log() { tail -n 15 "$1" | sed 's/^/  | /'; }

sql() { timeout 120 psql -X -q -t -A -v ON_ERROR_STOP=1 -c "$1"; }

# must_refuse NAME PATTERN...: the server (with $work/dc.toml) must exit
# at start with a non-zero status and a log holding every PATTERN.
must_refuse() {
  local name="$1" log="$work/refuse-$1.log" p
  shift
  if start "$log"; then
    fail "$name: the server started"
    stop
    return
  fi
  [ "$START_RC" != 0 ] || fail "$name: the server exited with status 0"
  for p in "$@"; do
    if ! grep -qF -- "$p" "$log"; then
      fail "$name: the log lacks \"$p\":"
      show_log "$log"
    fi
  done
}

# holders DIR STRING: the regular files under DIR holding STRING.
holders() {
  find "$1" -type f -print0 | xargs -0 -r grep -l -a -F -- "$2" 2>/dev/null
}

# key_id_of LOG: the current key id the aes-gcm module logged.
key_id_of() {
  sed -n 's/.*current key id \([0-9a-f]\{8\}\).*/\1/p' "$1" | tail -n 1
}

# header_key FILE: the key id field of a table or log file's header.
header_key() { od -An -t x4 -j 12 -N 4 "$1" | tr -d ' \n'; }

# all_headers DIR: "file keyid" for every table, WAL and manifest file.
all_headers() {
  local f
  for f in "$1"/sst/*.sst "$1"/wal/wal-*.log "$1"/manifest/wal-*.log; do
    [ -f "$f" ] || continue
    [ "$(stat -c %s "$f")" -ge 32 ] || continue
    echo "$f $(header_key "$f")"
  done
}

# copy_store SRC DST: directories and regular files only.
copy_store() {
  (cd "$1" && find . -type d) | (cd "$2" && xargs mkdir -p)
  (cd "$1" && find . -type f -print0) | (cd "$1" && xargs -0 -r cp --parents -t "$2")
}

ROWS=1500
workload() {
  sql "create table t (k text primary key, v text, n int)" &&
  sql "create index t_v on t (v)" || return 1
  local r
  for r in 1 2 3; do
    sql "insert into t select 'pkSECRET-$r-' || g, 'valSECRET-$r-' || g || '-' || repeat('q', 30), g from generate_series(1, $ROWS) g" || return 1
  done
  sql "update t set n = n + 1000000 where n % 10 = 0" &&
  sql "delete from t where n % 7 = 0" || return 1
  # A table whose rows stay in the WAL only (nothing flushes them).
  sql "insert into t values ('walonlySECRET-1', 'walvalSECRET-1', 1), ('walonlySECRET-2', 'walvalSECRET-2', 2)"
}

# wait_compacted DIR: until some table file number is missing from DIR/sst
# (a table was merged into others), 60 s at most.
wait_compacted() {
  local deadline=$(( $(now_ms) + 60000 )) nums max n
  while :; do
    nums="$(ls "$1/sst" 2>/dev/null | sed -n 's/^0*\([0-9][0-9]*\)\.sst$/\1/p')"
    n="$(printf '%s\n' "$nums" | grep -c .)"
    max="$(printf '%s\n' "$nums" | sort -n | tail -n 1)"
    [ -n "$max" ] && [ "$max" -gt "$n" ] && return 0
    [ "$(now_ms)" -gt "$deadline" ] && return 1
    sleep 0.2
  done
}

TAMPER="$work/tamper.py"
cat >"$TAMPER" <<'PY'
# tamper.py sst FILE... | log FILE: change sealed bytes and recompute the
# CRC that covers them, so that only authentication can notice.
#   sst: every data block of each table (docs/storage-sstable.md);
#   log: the first record of a WAL or manifest segment
#        (docs/storage-wal.md).
import struct, sys

T = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    T.append(c)

def crc32c(data, c=0xFFFFFFFF):
    for b in data:
        c = T[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF

def mask(c):
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF

def sst(path):
    b = bytearray(open(path, "rb").read())
    index_off, _, filter_off, _ = struct.unpack_from("<QQQQ", b, len(b) - 56)
    end = min(x for x in (index_off, filter_off) if x > 0)
    off, n = 32, 0
    while off < end:
        # The block's length: where the CRC of payload + type byte matches.
        c, size = 0xFFFFFFFF, None
        for s in range(0, end - off):
            if s > 0:
                c = T[(c ^ b[off + s - 1]) & 0xFF] ^ (c >> 8)
            t = b[off + s]
            if t > 1 or off + s + 5 > len(b):
                continue
            full = (T[(c ^ t) & 0xFF] ^ (c >> 8)) ^ 0xFFFFFFFF
            if mask(full) == struct.unpack_from("<I", b, off + s + 1)[0]:
                size = s
                break
        if size is None or size < 29:
            sys.exit("%s: no sealed block at %d" % (path, off))
        b[off + 12 + (size - 28) // 2] ^= 0x01
        crc = crc32c(bytes(b[off:off + size + 1]))
        struct.pack_into("<I", b, off + size + 1, mask(crc))
        off += size + 5
        n += 1
    open(path, "r+b").write(b)
    print("%s: %d data blocks changed" % (path, n))

def log(path):
    b = bytearray(open(path, "rb").read())
    n = struct.unpack_from("<I", b, 36)[0]
    if n < 29:
        sys.exit("%s: no sealed record at 32" % path)
    b[40 + n // 2] ^= 0x01
    struct.pack_into("<I", b, 32, mask(crc32c(bytes(b[36:40 + n]))))
    open(path, "r+b").write(b)
    print("%s: record at 32 changed" % path)

if sys.argv[1] == "sst":
    for p in sys.argv[2:]:
        sst(p)
else:
    log(sys.argv[2])
PY

# wait_log LOG TEXT: until LOG holds TEXT, 60 s at most.
wait_log() {
  local deadline=$(( $(now_ms) + 60000 ))
  until grep -qF -- "$2" "$1"; do
    [ "$(now_ms)" -gt "$deadline" ] && return 1
    sleep 0.2
  done
}

# ---- 1. the workload in the clear, then encrypted ---------------------------
keyA="$work/keyA"
openssl rand -base64 32 >"$keyA"
chmod 600 "$keyA"

echo "== encryption none"
config "$work/plain" none ""
start "$work/plain.log" || { show_log "$work/plain.log"; fail_now "the server (none) did not start"; }
workload || fail "the workload failed (none)"
wait_compacted "$work/plain" || fail "no compaction within 60 s (none)"
stop
for s in pkSECRET valSECRET; do
  [ -n "$(holders "$work/plain/sst" "$s")" ] || fail "none: \"$s\" is in no table file (the search does not work)"
done
[ -n "$(holders "$work/plain/manifest" pkSECRET)" ] ||
  fail "none: the manifest holds no row key (smallest/largest keys): the search does not cover it"
[ -n "$(holders "$work/plain/wal" walonlySECRET)" ] ||
  fail "none: the last insert is not in the WAL"

echo "== encryption aes-gcm (key file)"
config "$work/data" aes-gcm "encryption_enabled = true
encryption_key_file = \"$keyA\""
start "$work/enc1.log" || { show_log "$work/enc1.log"; fail_now "the server (aes-gcm) did not start"; }
idA="$(key_id_of "$work/enc1.log")"
[ -n "$idA" ] || fail "the aes-gcm module logged no current key id"
workload || fail "the workload failed (aes-gcm)"
wait_compacted "$work/data" || fail "no compaction within 60 s (aes-gcm)"
want="$(sql "select count(*), sum(n), min(k), max(v) from t")" || fail "cannot read t (aes-gcm)"
stop
nfiles="$(find "$work/data" -type f | wc -l)"
echo "   $nfiles files, key id $idA"
for s in SECRET pkSECRET valSECRET walonlySECRET walvalSECRET; do
  h="$(holders "$work/data" "$s")"
  [ -z "$h" ] || fail "aes-gcm: plaintext \"$s\" found in: $h"
done
[ -n "$(ls "$work/data/sst"/*.sst 2>/dev/null)" ] || fail "aes-gcm: no table file was written"
[ -n "$(holders "$work/plain" walonlySECRET)" ] || fail "none: lost its WAL rows"
while read -r f k; do
  [ "$k" = "$idA" ] || fail "aes-gcm: $f names key id $k, not $idA"
done < <(all_headers "$work/data")

# ---- 2. refusals at start -----------------------------------------------------
echo "== refusals"
config "$work/data" aes-gcm "encryption_enabled = true"
must_refuse no-key "encryption_key_base64" "encryption_key_file" "encryption_key_env"
config "$work/data" aes-gcm "encryption_enabled = true
encryption_key_base64 = \"this-is*not-base64\""
must_refuse malformed "encryption_key_base64" "not valid base64"
config "$work/data" aes-gcm "encryption_enabled = true
encryption_key_base64 = \"$(openssl rand -base64 16)\""
must_refuse short-key "16 bytes" "AES-256 needs 32"
cp "$keyA" "$work/key-open"
chmod 644 "$work/key-open"
config "$work/data" aes-gcm "encryption_enabled = true
encryption_key_file = \"$work/key-open\""
must_refuse key-file-0644 "$work/key-open" "0644" "group or others"
unset DC_TEST_ENC_MISSING
config "$work/data" aes-gcm "encryption_enabled = true
encryption_key_env = \"DC_TEST_ENC_MISSING\""
must_refuse env-missing "DC_TEST_ENC_MISSING" "not set"
config "$work/data" aes-gcm "encryption_enabled = false
encryption_key_file = \"$keyA\""
must_refuse not-enabled "encryption_enabled"
keyB="$(openssl rand -base64 32)"
export DC_TEST_ENC_KEY_B="$keyB"
config "$work/data" aes-gcm "encryption_enabled = true
encryption_key_env = \"DC_TEST_ENC_KEY_B\""
must_refuse wrong-key "sealed under key id $idA" "not configured"
config "$work/data" none ""
must_refuse none-module "sealed under key id $idA" "'none'"

# ---- a backup of the encrypted store -----------------------------------------------
if "$DC" backup --help >/dev/null 2>&1; then
  echo "== backup"
  # From a copy: opening the store for the backup replays its WAL, and the
  # tampering below wants the WAL as the workload left it.
  mkdir -p "$work/b-src"
  copy_store "$work/data" "$work/b-src"
  config "$work/b-src" aes-gcm "encryption_enabled = true
encryption_key_file = \"$keyA\""
  if timeout 120 "$DC" backup --config "$work/dc.toml" --to "$work/backup" >"$work/backup.log" 2>&1; then
    h="$(holders "$work/backup" SECRET)"
    [ -z "$h" ] || fail "backup: plaintext found in: $h"
    config "$work/backup" aes-gcm "encryption_enabled = true
encryption_key_file = \"$keyA\""
    if start "$work/backup-open.log"; then
      got="$(sql "select count(*), sum(n), min(k), max(v) from t")"
      [ "$got" = "$want" ] || fail "backup: t reads '$got', wrote '$want'"
      stop
    else
      fail "the backup does not open with the store's key"
      show_log "$work/backup-open.log"
    fi
  else
    fail "datacave backup failed: $(tail -n 3 "$work/backup.log")"
  fi
else
  echo "== (no datacave backup command: backup not checked)"
fi

# ---- 3. tampering ----------------------------------------------------------------
echo "== tampering"
enc_a="encryption_enabled = true
encryption_key_file = \"$keyA\""
man="$(ls "$work/data/manifest"/wal-*.log | sort | tail -n 1)"
mkdir -p "$work/t-man"
copy_store "$work/data" "$work/t-man"
tm="$work/t-man/manifest/$(basename "$man")"
python3 "$TAMPER" log "$tm" >/dev/null || fail "could not tamper with $tm"
config "$work/t-man" aes-gcm "$enc_a"
must_refuse tampered-manifest "$tm" "authentication"

wal="$(for f in "$work/data/wal"/wal-*.log; do [ "$(stat -c %s "$f")" -gt 32 ] && echo "$f"; done | sort | tail -n 1)"
if [ -z "$wal" ]; then
  fail "no WAL segment holds a record"
else
  mkdir -p "$work/t-wal"
  copy_store "$work/data" "$work/t-wal"
  tw="$work/t-wal/wal/$(basename "$wal")"
  python3 "$TAMPER" log "$tw" >/dev/null || fail "could not tamper with $tw"
  config "$work/t-wal" aes-gcm "$enc_a"
  must_refuse tampered-wal "$tw" "authentication"
fi

mkdir -p "$work/t-sst"
copy_store "$work/data" "$work/t-sst"
config "$work/t-sst" aes-gcm "$enc_a"
if start "$work/t-sst.log"; then
  # Changed under the running server: the catalog is read already, the
  # rows of t are not (nothing caches them yet).
  python3 "$TAMPER" sst "$work/t-sst/sst"/*.sst >/dev/null || fail "could not tamper with the tables"
  out="$(sql "select count(*), sum(length(v)) from t" 2>&1)"
  if [ $? -eq 0 ]; then
    fail "a query over tampered tables succeeded: $out"
  elif ! printf '%s\n' "$out" | grep -q "$work/t-sst/sst/[0-9]\{16\}\.sst"; then
    fail "the query error does not name the table file: $out"
  elif ! printf '%s\n' "$out" | grep -q "authentication"; then
    fail "the query error does not say authentication failed: $out"
  fi
  stop
else
  fail "the server did not start on the copy of the store"
  show_log "$work/t-sst.log"
fi

# ---- 4. rotation ------------------------------------------------------------------
echo "== rotation"
# The metric datacave_storage_files_by_key through the prometheus module
# (when it is built).
METRICS=""
[ -f "$B/modules/prometheus.so" ] && METRICS=prometheus
# files_by_key KEYID: the gauge's value for that key id ("" when absent).
files_by_key() {
  python3 - "$mport" "$1" <<'PY'
import sys, urllib.request
body = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=10).read().decode()
for line in body.splitlines():
    if line.startswith('datacave_storage_files_by_key{key_id="%s"}' % sys.argv[2]):
        print(int(float(line.split()[-1])))
PY
}
config "$work/data" aes-gcm "encryption_enabled = true
encryption_key_env = \"DC_TEST_ENC_KEY_B\"
encryption_retired_keys = [{ key_file = \"$keyA\" }]"
if start "$work/rot.log"; then
  idB="$(key_id_of "$work/rot.log")"
  [ -n "$idB" ] && [ "$idB" != "$idA" ] || fail "rotation: new key id '$idB' (old $idA)"
  grep -q "retired key id $idA" "$work/rot.log" || fail "rotation: the retired key is not logged"
  got="$(sql "select count(*), sum(n), min(k), max(v) from t")"
  [ "$got" = "$want" ] || fail "rotation: t reads '$got', wrote '$want'"
  if ! wait_log "$work/rot.log" "key rotation done: every table file is sealed under the current key id $idB"; then
    fail "rotation: no 'key rotation done' within 60 s"
    show_log "$work/rot.log"
  fi
  grep -q "table files are sealed under other key ids than the current one ($idB)" "$work/rot.log" ||
    fail "rotation: the log did not say how many files were under other keys"
  if [ -n "$METRICS" ]; then
    nsst="$(ls "$work/data/sst" | grep -c '\.sst$')"
    old="$(files_by_key "$idA")" new="$(files_by_key "$idB")"
    [ "$old" = 0 ] || fail "rotation: datacave_storage_files_by_key{key_id=\"$idA\"} is '$old', not 0"
    [ "$new" = "$nsst" ] || fail "rotation: datacave_storage_files_by_key{key_id=\"$idB\"} is '$new', $nsst table files"
  else
    echo "   (no prometheus module built: metric not checked)"
  fi
  stop
  METRICS=""
  while read -r f k; do
    [ "$k" = "$idB" ] || fail "rotation: $f still names key id $k (new key $idB)"
  done < <(all_headers "$work/data")
  for s in SECRET; do
    h="$(holders "$work/data" "$s")"
    [ -z "$h" ] || fail "rotation: plaintext \"$s\" found in: $h"
  done
else
  fail "rotation: the server did not start with the new key and the old one retired"
  show_log "$work/rot.log"
fi

config "$work/data" aes-gcm "encryption_enabled = true
encryption_key_env = \"DC_TEST_ENC_KEY_B\""
if start "$work/new-only.log"; then
  got="$(sql "select count(*), sum(n), min(k), max(v) from t")"
  [ "$got" = "$want" ] || fail "new key only: t reads '$got', wrote '$want'"
  stop
else
  fail "the new key alone does not open the rotated store"
  show_log "$work/new-only.log"
fi
config "$work/data" aes-gcm "$enc_a"
must_refuse old-key-only "sealed under key id $idB" "not configured"

# ---- 5. encrypting the store written in the clear ----------------------------
echo "== encrypting a store written in the clear"
config "$work/plain" none ""
want_plain=""
if start "$work/plain2.log"; then
  want_plain="$(sql "select count(*), sum(n), min(k), max(v) from t")"
  stop
fi
[ -n "$want_plain" ] || fail "the clear store does not read back"
config "$work/plain" aes-gcm "$enc_a"
must_refuse plaintext-refused "stored in the clear" "encryption_allow_plaintext"
config "$work/plain" aes-gcm "$enc_a
encryption_allow_plaintext = true"
if start "$work/migrate.log"; then
  got="$(sql "select count(*), sum(n), min(k), max(v) from t")"
  [ "$got" = "$want_plain" ] || fail "migration: t reads '$got', was '$want_plain'"
  wait_log "$work/migrate.log" "key rotation done: every table file is sealed under the current key id $idA" ||
    fail "migration: no 'key rotation done' within 60 s"
  stop
  config "$work/plain" aes-gcm "$enc_a"
  if start "$work/migrated.log"; then
    got="$(sql "select count(*), sum(n), min(k), max(v) from t")"
    [ "$got" = "$want_plain" ] || fail "migrated: t reads '$got', was '$want_plain'"
    stop
  else
    fail "the migrated store does not open without encryption_allow_plaintext"
    show_log "$work/migrated.log"
  fi
  h="$(holders "$work/plain" SECRET)"
  [ -z "$h" ] || fail "migrated: plaintext still in: $h"
  while read -r f k; do
    [ "$k" = "$idA" ] || fail "migrated: $f names key id $k, not $idA"
  done < <(all_headers "$work/plain")
else
  fail "aes-gcm with encryption_allow_plaintext does not open the clear store"
  show_log "$work/migrate.log"
fi

echo "checks done: $failures failed"
[ "$failures" -eq 0 ]
