#!/usr/bin/env bash
# Installs the Debian packages Datacave needs to build and test, only when
# one is missing.  `deps.sh check` only reports (exit 1 when something is
# missing); `deps.sh` (or `deps.sh install`) installs what is missing.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config binutils
  libssl-dev libjansson-dev libzstd-dev libmicrohttpd-dev libcmocka-dev
  clang libclang-rt-14-dev
  libpq-dev
  # client tests (tests/scripts/test_clients_*.sh): psql 15 and pg_isready,
  # psycopg2 for Debian's python3, Node.js for node-postgres and postgres.js,
  # openssl for the test certificates
  postgresql-client-15 python3-psycopg2 nodejs openssl
  # pgJDBC (/usr/share/java/postgresql.jar) and a JDK to compile and run
  # tests/clients/jdbc; PostgreSQL 15 itself (the server the client tests
  # run against with CLIENTS_SERVER=postgres, and pgbench)
  libpostgresql-jdbc-java default-jdk-headless postgresql-15
  # the metrics test (tests/scripts/test_metrics.sh): promtool (package
  # prometheus) checks the /metrics output, curl fetches it
  prometheus curl
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# npm: Debian's package, unless an npm came with the installed Node.js (as
# some Node.js builds bring their own, which Debian's would conflict with).
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ "${1:-install}" = "check" ]; then
  if [ ${#missing[@]} -gt 0 ]; then
    echo "missing packages: ${missing[*]}" >&2
    exit 1
  fi
  exit 0
fi

[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
