# tests/clients/lib.sh - shared by the client test scripts
# (tests/scripts/test_clients_*.sh, test_slt_wire.sh): starts a throwaway
# server on a free port of 127.0.0.1 with a SCRAM user, and stops it.
#
# The server is Datacave (`datacave serve`, pgwire + sql + memory storage +
# password auth) unless CLIENTS_SERVER=postgres, which starts a throwaway
# PostgreSQL 15 cluster (initdb) configured the same way instead: the same
# tests, run against PostgreSQL, check that the tests themselves are right.
#
# Usage (from a script, after `source`):
#   clients_init                 temp dir $CT, cleanup at exit
#   clients_make_certs           $CT/tls/{ca.crt,server.crt,server.key}:
#                                a CA and a server certificate for
#                                127.0.0.1 and localhost (verify-full works)
#   clients_start [plain|tls|tls-require] [storage]
#                                start the server; exports PGHOST, PGPORT,
#                                PGUSER, PGPASSWORD, PGDATABASE, and sets
#                                SERVER_LOG and SERVER_KIND
#   clients_stop                 SIGTERM (PostgreSQL: SIGINT, its fast
#                                shutdown), wait 10 s at most
#   clients_need CMD...          exit 1 with a reason when a command is missing
#   clients_need_built [STORAGE] the datacave binary and modules are built
#
# The user is $CLIENT_USER with password $CLIENT_PASSWORD (SCRAM-SHA-256) and
# the admin role; $READER_USER ($READER_PASSWORD) may read and not write;
# the database is $CLIENT_DB.  Every wait is bounded.

ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
B="${DATACAVE_BUILD:-$ROOT/build}"
DC="$B/bin/datacave"
SERVER_KIND="${CLIENTS_SERVER:-datacave}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"

CLIENT_USER="dc_client"
CLIENT_PASSWORD="s3cret pass'word"
CLIENT_DB="dc_clients"
# A second user that may read everything and write nothing (Datacave's
# reader role; PostgreSQL's pg_read_all_data).
READER_USER="dc_reader"
READER_PASSWORD="reader pass"

CT=""
SERVER_PID=""
SERVER_LOG=""

_clients_cleanup() {
  clients_stop
  [ -n "$CT" ] && rm -rf "$CT"
}

clients_init() {
  CT="$(mktemp -d)"
  # A PostgreSQL server runs as the postgres user and must reach its files.
  chmod 755 "$CT"
  trap _clients_cleanup EXIT
  case "$SERVER_KIND" in
    datacave|postgres) ;;
    *) echo "FAIL: CLIENTS_SERVER must be datacave or postgres, not '$SERVER_KIND'"; exit 1 ;;
  esac
  echo "server under test: $SERVER_KIND"
}

clients_need() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 ||
      { echo "FAIL: '$c' is not installed (scripts/deps.sh installs it)"; exit 1; }
  done
}

# clients_need_built [STORAGE]: the binary and the modules the Datacave
# server needs are built (nothing to check for a PostgreSQL run).
clients_need_built() {
  [ "$SERVER_KIND" = datacave ] || return 0
  [ -x "$DC" ] || { echo "FAIL: no datacave binary at $DC (make all)"; return 1; }
  local m
  for m in pgwire sql "${1:-memory}" password; do
    [ -f "$B/modules/$m.so" ] || { echo "FAIL: module $B/modules/$m.so is not built (make all)"; return 1; }
  done
  return 0
}

# clients_npm_install NAME: the packages of tests/clients/NAME/package-lock.json,
# installed with `npm ci` into $B/tests/clients/NAME (never the source tree),
# again only when the lock file changed.  Sets NM to that directory; exits 1
# when npm fails.
clients_npm_install() {
  local src="$ROOT/tests/clients/$1" stamp
  NM="$B/tests/clients/$1"
  mkdir -p "$NM"
  stamp="$(sha256sum "$src/package-lock.json" | cut -d' ' -f1)"
  if [ ! -d "$NM/node_modules" ] || [ "$(cat "$NM/.installed" 2>/dev/null)" != "$stamp" ]; then
    cp "$src/package.json" "$src/package-lock.json" "$NM/"
    rm -f "$NM/.installed"
    if ! (cd "$NM" && timeout 300 npm ci --no-audit --no-fund --ignore-scripts >"$NM/npm.log" 2>&1); then
      echo "FAIL: npm ci of tests/clients/$1/package-lock.json failed (the npm registry must be reachable):"
      tail -n 20 "$NM/npm.log" | sed 's/^/  | /'
      exit 1
    fi
    echo "$stamp" >"$NM/.installed"
  fi
}

# A port nobody listens on now (the kernel picks it; a race with another
# process taking it in between is possible but makes the start fail loudly).
clients_free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

clients_make_certs() {
  local d="$CT/tls"
  mkdir -p "$d"
  clients_need openssl
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Datacave test CA" \
    -keyout "$d/ca.key" -out "$d/ca.crt" >"$d/log" 2>&1 || { cat "$d/log"; return 1; }
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$d/server.key" -out "$d/server.csr" >>"$d/log" 2>&1 || { cat "$d/log"; return 1; }
  printf 'subjectAltName = IP:127.0.0.1, DNS:localhost\nbasicConstraints = CA:FALSE\nkeyUsage = digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\n' >"$d/ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
    -CAcreateserial -days 2 -extfile "$d/ext" -out "$d/server.crt" >>"$d/log" 2>&1 ||
    { cat "$d/log"; return 1; }
  # A second CA that did not sign the server's certificate (verify-full
  # against it must fail).
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Other CA" \
    -keyout "$d/other-ca.key" -out "$d/other-ca.crt" >>"$d/log" 2>&1 || { cat "$d/log"; return 1; }
  chmod 600 "$d"/*.key
  chmod 644 "$d"/*.crt
  [ "$SERVER_KIND" = postgres ] && [ "$(id -u)" = 0 ] && chown -R postgres "$d"
  return 0
}

# _wait_ready PORT: until the server accepts connections (30 s at most).
_wait_ready() {
  for _ in $(seq 1 150); do
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    if pg_isready -q -h 127.0.0.1 -p "$1" -t 1 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

_export_conn() {
  export PGHOST=127.0.0.1 PGPORT="$1" PGUSER="$CLIENT_USER" \
    PGPASSWORD="$CLIENT_PASSWORD" PGDATABASE="$CLIENT_DB"
  # Nothing from the caller's environment may change how clients connect.
  unset PGSSLMODE PGSSLROOTCERT PGSERVICE PGPASSFILE PGOPTIONS PGAPPNAME
  export PGCONNECT_TIMEOUT=10 READER_USER READER_PASSWORD
}

_start_datacave() {
  local mode="$1" storage="$2" port="$3" hash tls=""
  clients_need_built "$storage" || return 1
  hash="$("$DC" gen-password-hash --password "$CLIENT_PASSWORD" 2>"$CT/genhash.err" | grep '^SCRAM-SHA-256\$' | tail -n 1)"
  [ -n "$hash" ] || { echo "FAIL: datacave gen-password-hash printed no SCRAM secret:"; cat "$CT/genhash.err"; return 1; }
  local rhash
  rhash="$("$DC" gen-password-hash --password "$READER_PASSWORD" 2>"$CT/genhash.err" | grep '^SCRAM-SHA-256\$' | tail -n 1)"
  [ -n "$rhash" ] || { echo "FAIL: datacave gen-password-hash printed no SCRAM secret:"; cat "$CT/genhash.err"; return 1; }
  case "$mode" in
    plain) tls="enabled = false" ;;
    tls) tls=$(printf 'enabled = true\ncert_path = "%s"\nkey_path = "%s"\nrequire = false' "$CT/tls/server.crt" "$CT/tls/server.key") ;;
    tls-require) tls=$(printf 'enabled = true\ncert_path = "%s"\nkey_path = "%s"\nrequire = true' "$CT/tls/server.crt" "$CT/tls/server.key") ;;
  esac
  cat >"$CT/datacave.toml" <<EOF
[server]
listen_addr = "127.0.0.1:$port"
module_dir = "$B/modules"
max_connections = 100

[modules]
protocol = "pgwire"
sql = "sql"
storage = "$storage"
auth = "password"
encryption = "none"
metrics = ""

[storage]
data_dir = "$CT/data"

[security.tls]
$tls

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
EOF
  "$DC" serve --config "$CT/datacave.toml" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
}

# Runs a command as the postgres user when we are root (setpriv execs, so a
# background job's pid is the command's own).
_as_pg() {
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
  else
    "$@"
  fi
}

_start_postgres() {
  local mode="$1" port="$3" d="$CT/pgdata" sock="$CT/pgsock"
  [ -x "$PG_BIN/initdb" ] || { echo "FAIL: no PostgreSQL 15 at $PG_BIN (package postgresql-15)"; return 1; }
  mkdir -p "$sock" "$d"
  chmod 700 "$d"
  [ "$(id -u)" = 0 ] && chown postgres "$sock" "$d"
  printf '%s\n' "$CLIENT_PASSWORD" >"$CT/pwfile"
  chmod 644 "$CT/pwfile"
  if [ ! -f "$d/PG_VERSION" ]; then
    _as_pg "$PG_BIN/initdb" -D "$d" -U "$CLIENT_USER" --pwfile="$CT/pwfile" \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
      >"$CT/initdb.log" 2>&1 || { echo "FAIL: initdb failed:"; cat "$CT/initdb.log"; return 1; }
  fi
  local hba="$d/pg_hba.conf"
  case "$mode" in
    plain|tls) printf 'local all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n' >"$hba" ;;
    tls-require) printf 'local all all scram-sha-256\nhostssl all all 127.0.0.1/32 scram-sha-256\nhostnossl all all 127.0.0.1/32 reject\n' >"$hba" ;;
  esac
  local opts=(-c "port=$port" -c "listen_addresses=127.0.0.1" -c "unix_socket_directories=$sock"
              -c "fsync=off" -c "password_encryption=scram-sha-256")
  if [ "$mode" != plain ]; then
    opts+=(-c ssl=on -c "ssl_cert_file=$CT/tls/server.crt" -c "ssl_key_file=$CT/tls/server.key")
  fi
  # Not through _as_pg: a function run in the background is a subshell,
  # and $! must be the postmaster's own pid.
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid=postgres --regid=postgres --init-groups -- \
      "$PG_BIN/postgres" -D "$d" "${opts[@]}" >"$SERVER_LOG" 2>&1 &
  else
    "$PG_BIN/postgres" -D "$d" "${opts[@]}" >"$SERVER_LOG" 2>&1 &
  fi
  SERVER_PID=$!
  if [ ! -f "$CT/pg-db-made" ]; then
    _wait_ready "$port" || return 1
    PGPASSWORD="$CLIENT_PASSWORD" "$PG_BIN/psql" -X -q -h "$sock" -p "$port" -U "$CLIENT_USER" \
      -d postgres -c "create database $CLIENT_DB" \
      -c "create role $READER_USER login password '$READER_PASSWORD'" \
      -c "grant pg_read_all_data to $READER_USER" >"$CT/createdb.log" 2>&1 ||
      { echo "FAIL: create database:"; cat "$CT/createdb.log"; return 1; }
    touch "$CT/pg-db-made"
  fi
}

clients_start() {
  local mode="${1:-plain}" storage="${2:-memory}" port
  clients_need pg_isready python3
  clients_stop
  port="$(clients_free_port)" || { echo "FAIL: could not find a free port"; return 1; }
  SERVER_LOG="$CT/server-$mode.log"
  if [ "$mode" != plain ] && [ ! -f "$CT/tls/server.crt" ]; then
    clients_make_certs || { echo "FAIL: could not make TLS certificates"; return 1; }
  fi
  if [ "$SERVER_KIND" = postgres ]; then
    _start_postgres "$mode" "$storage" "$port" || { clients_show_log; return 1; }
  else
    _start_datacave "$mode" "$storage" "$port" || return 1
  fi
  if ! _wait_ready "$port"; then
    echo "FAIL: the $SERVER_KIND server did not accept connections on 127.0.0.1:$port within 30 s"
    clients_show_log
    return 1
  fi
  _export_conn "$port"
  [ "$SERVER_KIND" = datacave ] && { _datacave_make_db || return 1; }
  return 0
}

# A new Datacave store may hold only its initial database: create
# $CLIENT_DB from there (as the PostgreSQL run does after initdb) unless it
# is already there.  The initial database's name is tried among those a
# server may use.
_datacave_make_db() {
  local out db
  out="$(timeout 30 psql -X -At -c 'select 1' 2>&1)"
  [ "$out" = 1 ] && return 0
  if ! printf '%s' "$out" | grep -qF "database \"$CLIENT_DB\" does not exist"; then
    echo "FAIL: cannot connect to database $CLIENT_DB: $out"
    clients_show_log
    return 1
  fi
  for db in postgres default datacave; do
    if timeout 30 psql -X -q -d "$db" -c "create database $CLIENT_DB" >"$CT/createdb.log" 2>&1; then
      echo "note: created database $CLIENT_DB from database $db"
      return 0
    fi
  done
  echo "FAIL: database $CLIENT_DB does not exist and could not be created from postgres, default or datacave:"
  sed 's/^/  | /' "$CT/createdb.log"
  return 1
}

clients_show_log() {
  [ -n "$SERVER_LOG" ] && [ -f "$SERVER_LOG" ] || return 0
  echo "  --- server log ($SERVER_LOG), last lines:"
  tail -n 25 "$SERVER_LOG" | sed 's/^/  | /'
}

clients_stop() {
  [ -n "$SERVER_PID" ] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    # PostgreSQL's fast shutdown is SIGINT (its SIGTERM waits for clients).
    if [ "$SERVER_KIND" = postgres ]; then
      kill -INT "$SERVER_PID" 2>/dev/null
    else
      kill -TERM "$SERVER_PID" 2>/dev/null
    fi
    for _ in $(seq 1 100); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "FAIL: the $SERVER_KIND server (pid $SERVER_PID) ignored SIGTERM for 10 s; killed"
      kill -KILL "$SERVER_PID" 2>/dev/null
      CLIENTS_STOP_FAILED=1
    fi
  fi
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=""
}
