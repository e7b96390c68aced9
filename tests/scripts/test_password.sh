#!/usr/bin/env bash
# tests/scripts/test_password.sh - the `password` auth module through the
# real binary: `datacave gen-password-hash` with a config naming the module,
# init refusals reported by the host, the password_plain warning, and the
# printed SCRAM-SHA-256 secret checked by the local PostgreSQL 15: it is set
# as a role's password (PostgreSQL stores it as is only when it is a valid
# SCRAM secret) and psql logs in with the cleartext password.  The
# PostgreSQL part is skipped, with a note, when the server is not reachable.
# Run by tests/run.sh from the repository root; exits 1 on any failure.
set -u

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
B="${DATACAVE_BUILD:-$ROOT/build}"
DC="$B/bin/datacave"

tmp="$(mktemp -d)"
role="dc_pwtest_$$"
pg_role_made=0
failures=0
checks=0

# psql as the PostgreSQL superuser over the local socket, SQL on stdin (so
# that '$' in secrets reaches PostgreSQL untouched).
pg_admin() {
  if [ "$(id -u)" -eq 0 ]; then
    su postgres -c "psql -X -q -At -v ON_ERROR_STOP=1 -h ${PGSOCKET:-/var/run/postgresql} -d postgres"
  else
    psql -X -q -At -v ON_ERROR_STOP=1 -d postgres
  fi
}

cleanup() {
  if [ "$pg_role_made" -eq 1 ]; then
    echo "DROP ROLE IF EXISTS $role;" | pg_admin >/dev/null 2>&1
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
show() {
  echo "  --- stdout:"; sed 's/^/  | /' "$tmp/out" | head -n 20
  echo "  --- stderr:"; sed 's/^/  | /' "$tmp/err" | head -n 20
}
rc=0
run() {
  timeout 60 "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
}
expect_rc() {
  checks=$((checks + 1))
  if [ "$rc" -ne "$1" ]; then
    fail "$2: exit status $rc, expected $1"
    show
    return 1
  fi
}
has() {
  checks=$((checks + 1))
  if ! grep -qF -- "$2" "$1"; then
    fail "$3: expected '$2' in $(basename "$1")"
    show
    return 1
  fi
}

if [ ! -f "$B/modules/password.so" ]; then
  echo "FAIL: $B/modules/password.so is not built"
  exit 1
fi

# write_config FILE METHOD [EXTRA TOML]
write_config() {
  cat >"$1" <<EOF
[server]
module_dir = "$B/modules"

[modules]
auth = "password"

[module.password]
method = "$2"

[security.auth]
enabled = true

[[security.auth.roles]]
name = "reader"
can_read = true
can_write = false
is_admin = false
$3
EOF
}

# ---- gen-password-hash -----------------------------------------------------
write_config "$tmp/scram.toml" scram-sha-256 ""
pw='Pencil-42 $ecret'
run "$DC" gen-password-hash --password "$pw" --config "$tmp/scram.toml"
expect_rc 0 "gen-password-hash"
hash="$(head -n 1 "$tmp/out")"
checks=$((checks + 1))
re='^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$'
if ! [[ "$hash" =~ $re ]]; then
  fail "gen-password-hash printed '$hash', not a SCRAM-SHA-256 secret"
fi
checks=$((checks + 1))
[ "$(wc -l <"$tmp/out")" -eq 1 ] || fail "gen-password-hash printed more than one line"

# A fresh salt every time.
run "$DC" gen-password-hash --password "$pw" --config "$tmp/scram.toml"
expect_rc 0 "gen-password-hash again"
checks=$((checks + 1))
[ "$(head -n 1 "$tmp/out")" != "$hash" ] || fail "two hashes of one password are equal"

# Without --config the default auth module is this one.
run "$DC" gen-password-hash --password "$pw"
expect_rc 0 "gen-password-hash without --config"
has "$tmp/out" 'SCRAM-SHA-256$4096:' "gen-password-hash without --config"

# scram_iterations is honoured.
write_config "$tmp/iter.toml" scram-sha-256 ""
sed -i 's/^method = .*/&\nscram_iterations = 10000/' "$tmp/iter.toml"
run "$DC" gen-password-hash --password "$pw" --config "$tmp/iter.toml"
expect_rc 0 "gen-password-hash, scram_iterations = 10000"
has "$tmp/out" 'SCRAM-SHA-256$10000:' "scram_iterations"

# Missing --password is a usage error.
run "$DC" gen-password-hash --config "$tmp/scram.toml"
expect_rc 2 "gen-password-hash without --password"

# ---- init checks through the host ------------------------------------------
# The generated secret as a user's password_hash: accepted.
write_config "$tmp/user.toml" scram-sha-256 "
[[security.auth.users]]
username = \"ann\"
password_hash = \"$hash\"
roles = [\"reader\"]"
run "$DC" gen-password-hash --password x --config "$tmp/user.toml"
expect_rc 0 "config with the generated password_hash"
has "$tmp/err" "1 user, method scram-sha-256" "init log line"

# md5 with only a SCRAM secret: refused, naming the user.
sed 's/^method = .*/method = "md5"/' "$tmp/user.toml" >"$tmp/md5.toml"
run "$DC" gen-password-hash --password x --config "$tmp/md5.toml"
expect_rc 1 "md5 method with a SCRAM secret"
has "$tmp/err" 'user "ann": the md5 method needs' "md5 refusal message"

# A role that does not exist.
sed 's/roles = \["reader"\]/roles = ["ghost"]/' "$tmp/user.toml" >"$tmp/ghost.toml"
run "$DC" gen-password-hash --password x --config "$tmp/ghost.toml"
expect_rc 1 "undefined role"
has "$tmp/err" 'role "ghost" of user "ann" is not defined' "undefined role message"

# An unknown method.
sed 's/^method = .*/method = "sha1"/' "$tmp/scram.toml" >"$tmp/bad.toml"
run "$DC" gen-password-hash --password x --config "$tmp/bad.toml"
expect_rc 1 "unknown method"
has "$tmp/err" 'method "sha1" is not one of' "unknown method message"

# password_plain: accepted with a warning at warn level.
write_config "$tmp/plain.toml" scram-sha-256 "
[[security.auth.users]]
username = \"dev\"
password_plain = \"dev\""
run "$DC" gen-password-hash --password x --config "$tmp/plain.toml"
expect_rc 0 "password_plain"
has "$tmp/err" 'warn' "password_plain warning level"
has "$tmp/err" 'user "dev" has password_plain' "password_plain warning"

# ---- the secret checked by PostgreSQL 15 -----------------------------------
if ! command -v psql >/dev/null 2>&1 ||
   ! echo "select 1" | pg_admin >/dev/null 2>&1; then
  echo "NOTE: PostgreSQL is not reachable; skipping the check of the secret against it"
else
  printf "CREATE ROLE %s LOGIN PASSWORD '%s';\n" "$role" "$hash" | pg_admin >"$tmp/out" 2>"$tmp/err"
  rc=$?
  expect_rc 0 "CREATE ROLE with the generated secret" && pg_role_made=1
  # PostgreSQL keeps a valid SCRAM secret as given (anything else it would
  # hash as a cleartext password).
  printf "SELECT rolpassword = '%s' FROM pg_authid WHERE rolname = '%s';\n" "$hash" "$role" |
    pg_admin >"$tmp/out" 2>"$tmp/err"
  checks=$((checks + 1))
  [ "$(cat "$tmp/out")" = "t" ] || { fail "PostgreSQL did not store the secret as given"; show; }

  pgport="${PGPORT:-5432}"
  login() {
    PGPASSWORD="$1" PGCONNECT_TIMEOUT=10 timeout 30 psql -X -At -w \
      "host=127.0.0.1 port=$pgport dbname=postgres user=$role" \
      -c "select current_user" >"$tmp/out" 2>"$tmp/err"
  }
  if login "definitely wrong"; then
    echo "NOTE: PostgreSQL on 127.0.0.1:$pgport does not check passwords (pg_hba); skipping the login check"
  else
    login "$pw"
    rc=$?
    expect_rc 0 "psql login to PostgreSQL with the password behind the secret"
    has "$tmp/out" "$role" "psql login as $role"
  fi
fi

echo "test_password.sh: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
