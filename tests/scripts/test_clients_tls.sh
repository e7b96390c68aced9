#!/usr/bin/env bash
# tests/scripts/test_clients_tls.sh - TLS through real clients (psql and
# psycopg2, both over libpq) against `datacave serve` started by
# tests/clients/lib.sh with a CA and a server certificate for 127.0.0.1 and
# localhost made by openssl at test time:
#   [security.tls] enabled: sslmode=require is encrypted (\conninfo);
#     verify-full with the CA works for host 127.0.0.1 and localhost; it is
#     refused with another CA, and for a host name the certificate does not
#     name; sslmode=disable still connects in plain text; psycopg2 with
#     verify-full runs queries;
#   require = true as well: sslmode=disable is refused ("no encryption"),
#     sslmode=prefer/require/verify-full connect encrypted.
# CLIENTS_SERVER=postgres runs the same against a throwaway PostgreSQL 15
# (ssl = on, hostssl/hostnossl reject for the second part).
# Run by tests/run.sh from the repository root; exits 1 on any failure.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
source "$ROOT/tests/clients/lib.sh"

failures=0
checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

clients_need psql openssl
clients_init
clients_make_certs || { echo "FAIL: could not make the certificates"; exit 1; }
CA="$CT/tls/ca.crt"

# conn WHAT WANT(ok|refused) EXPECTED-TEXT CONNINFO...: psql -c '\conninfo'
# with extra connection options; WANT ok: exit 0 and the output has the
# text; refused: exit 2 and the error has it.
conn() {
  local what="$1" want="$2" text="$3" out rc
  shift 3
  checks=$((checks + 1))
  out="$(timeout 30 psql -X -At "host=127.0.0.1 $*" -c '\conninfo' -c 'select 41 + 1' 2>&1)"
  rc=$?
  if [ "$want" = ok ] && [ $rc -eq 0 ] && printf '%s' "$out" | grep -qF -- "$text" &&
     printf '%s' "$out" | grep -qx 42; then
    ok "$what"
  elif [ "$want" = refused ] && [ $rc -eq 2 ] && printf '%s' "$out" | grep -qF -- "$text"; then
    ok "$what"
  else
    fail "$what: exit $rc, expected $want with '$text'; output:"
    printf '%s\n' "$out" | sed 's/^/  | /' | head -n 10
  fi
}
ENC="SSL connection (protocol: TLSv1."

# ---- TLS offered -----------------------------------------------------------------
clients_start tls || exit 1
conn "sslmode=require is encrypted" ok "$ENC" sslmode=require
conn "verify-full with the CA, host 127.0.0.1" ok "$ENC" sslmode=verify-full "sslrootcert=$CA"
conn "verify-full with the CA, host localhost" ok "$ENC" "sslmode=verify-full sslrootcert=$CA host=localhost hostaddr=127.0.0.1"
conn "verify-ca with the CA" ok "$ENC" sslmode=verify-ca "sslrootcert=$CA"
conn "verify-full with another CA is refused" refused "certificate verify failed" \
  sslmode=verify-full "sslrootcert=$CT/tls/other-ca.crt"
conn "verify-full for a host name the certificate lacks is refused" refused \
  'does not match host name "wrong.example"' \
  "sslmode=verify-full sslrootcert=$CA host=wrong.example hostaddr=127.0.0.1"
checks=$((checks + 1))
out="$(timeout 30 psql -X -At "host=127.0.0.1 sslmode=disable" -c '\conninfo' -c 'select 42' 2>&1)"
if [ $? -eq 0 ] && ! printf '%s' "$out" | grep -qF "SSL connection" && printf '%s' "$out" | grep -qx 42; then
  ok "TLS optional: sslmode=disable connects in plain text"
else
  fail "TLS optional: sslmode=disable: $out"
fi
if /usr/bin/python3 -c 'import psycopg2' 2>/dev/null; then
  checks=$((checks + 1))
  out="$(CA="$CA" timeout 60 /usr/bin/python3 - 2>&1 <<'PY'
import os, psycopg2
c = psycopg2.connect("sslmode=verify-full", sslrootcert=os.environ["CA"])
cur = c.cursor()
cur.execute("select %s::int * 2", (21,))
print(cur.fetchone()[0], c.info.ssl_in_use, c.info.ssl_attribute("protocol"))
PY
)"
  if printf '%s' "$out" | grep -qE '^42 True TLSv1\.[23]$'; then
    ok "psycopg2 with verify-full"
  else
    fail "psycopg2 with verify-full: $out"
  fi
else
  fail "python3-psycopg2 is not installed (scripts/deps.sh installs it)"
fi

# ---- TLS required ----------------------------------------------------------------
clients_start tls-require || exit 1
conn "TLS required: sslmode=disable is refused" refused "no encryption" sslmode=disable
conn "TLS required: sslmode=prefer connects encrypted" ok "$ENC" sslmode=prefer
conn "TLS required: sslmode=require" ok "$ENC" sslmode=require
conn "TLS required: verify-full" ok "$ENC" sslmode=verify-full "sslrootcert=$CA"

clients_stop
[ -n "${CLIENTS_STOP_FAILED:-}" ] && fail "the server did not stop on SIGTERM"
[ $failures -ne 0 ] && clients_show_log
echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
