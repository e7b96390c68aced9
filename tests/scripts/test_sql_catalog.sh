#!/usr/bin/env bash
# tests/scripts/test_sql_catalog.sh - the catalog queries of psql 15's
# backslash commands (\d, \dt, \d NAME, \di, \dv, \l, \dn, \du, \dT, \df and
# the + forms of \d NAME, \dt, \di, \dv, \dn, \l) and of
# drivers (pgJDBC getTables / getColumns, postgres.js's array types query)
# give PostgreSQL 15's answers through Datacave's SQL engine.
#
# tests/sql/catalog/schema.sql is loaded into a fresh in-memory Datacave;
# each tests/sql/catalog/NAME.sql (a query captured with psql -E) is run
# through `datacave sql` and its output compared with NAME.out, which
# PostgreSQL 15 produced for the same schema.  Object oids differ between
# the two, so the fixtures name relations as @relname@ (spaces as _): the
# script substitutes Datacave's oids before running a query and turns them
# back into @relname@ in the output.  Exceptions: postgres.js's query is
# compared without column padding (Datacave has fewer types, so the
# expected rows are PostgreSQL's restricted to Datacave's types), and \l
# and \l+ (psql_l_*, psql_lplus_*) check the column headings and that the
# current database is listed, since the databases themselves differ.
#
#   --regen   rewrite the .out files from the local PostgreSQL 15 (as the
#             postgres user, database dc_catalog_fixture, recreated).
set -u

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
B="${DATACAVE_BUILD:-$ROOT/build}"
FX="$ROOT/tests/sql/catalog"
DC="$B/bin/datacave"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

# PostgreSQL-side helpers (--regen only).
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -c "$*"; else sh -c "$*"; fi; }
PSQL="psql -X -h /var/run/postgresql"

# oid_map MODE: "name oid" lines for the relations of schema.sql.
OIDQ="select replace(relname, chr(32), chr(95)) || chr(32) || oid from pg_class where relnamespace = 2200"
oid_map() {
  if [ "$1" = pg ]; then
    as_pg "$PSQL -A -t -d dc_catalog_fixture -c \"$OIDQ\""
  else
    "$DC" sql --config "$tmp/dc.toml" -U postgres -f "$FX/schema.sql" -c "$OIDQ;" 2>&1 |
      sed -n 's/^ \([^ ]*\) \([0-9][0-9]*\)$/\1 \2/p'
  fi
}

# sed scripts: @name@ -> oid (to) and oid -> @name@ (back).
make_sed() {
  : >"$tmp/to.sed"; : >"$tmp/back.sed"
  while read -r n o; do
    [ -n "${o:-}" ] || continue
    echo "s/@$n@/$o/g" >>"$tmp/to.sed"
    echo "s/\\b$o\\b/@$n@/g" >>"$tmp/back.sed"
  done
}

# run_fixture MODE FILE: the query's output with oids turned back to names.
run_fixture() {
  sed -f "$tmp/to.sed" "$2" >"$tmp/cur.sql"
  chmod 644 "$tmp/cur.sql"
  if [ "$1" = pg ]; then
    as_pg "$PSQL -d dc_catalog_fixture -f $tmp/cur.sql" 2>&1
  else
    "$DC" sql --config "$tmp/dc.toml" -U postgres -f "$FX/schema.sql" \
      -f "$tmp/cur.sql" 2>&1 | grep -v '^CREATE '
  fi | sed -f "$tmp/back.sed"
}

# Column padding removed: "a | b" rows, no ---- line.
unpad() { sed -e 's/^ *//; s/ *$//; s/ *| */|/g; /^-[-+]*$/d'; }

DC_TYPES=" 16 17 19 20 21 23 25 26 700 701 1042 1043 1082 1114 1184 1700 "

if [ "${1:-}" = "--regen" ]; then
  as_pg "$PSQL -q -c 'drop database if exists dc_catalog_fixture'" &&
  as_pg "$PSQL -q -c 'create database dc_catalog_fixture'" &&
  as_pg "$PSQL -q -d dc_catalog_fixture -f $FX/schema.sql" || exit 1
  oid_map pg | make_sed
  for f in "$FX"/*.sql; do
    n="$(basename "$f" .sql)"
    [ "$n" = schema ] && continue
    case "$n" in
    postgresjs_*)
      run_fixture pg "$f" | awk -v keep="$DC_TYPES" '
        NR <= 2 { print; next }
        /^\(/ { next }
        /^$/ { next }
        { o = $1 + 0; if (index(keep, " " o " ")) { print; k++ } }
        END { print "(" k " rows)"; print "" }' >"$FX/$n.out" ;;
    *) run_fixture pg "$f" >"$FX/$n.out" ;;
    esac
  done
  as_pg "$PSQL -q -c 'drop database dc_catalog_fixture'"
  echo "regenerated $(ls "$FX"/*.out | wc -l) expected outputs"
  exit 0
fi

[ -x "$DC" ] || { echo "FAIL: no $DC"; exit 1; }
for m in sql memory none; do
  [ -f "$B/modules/$m.so" ] || { echo "FAIL: no $B/modules/$m.so"; exit 1; }
done
cat >"$tmp/dc.toml" <<CFG
[server]
module_dir = "$B/modules"
[log]
level = "warn"
[modules]
protocol = ""
sql = "sql"
storage = "memory"
auth = ""
encryption = "none"
metrics = ""
[storage]
data_dir = "$tmp/data"
CFG

oid_map dc >"$tmp/oids"
[ "$(wc -l <"$tmp/oids")" -ge 10 ] || {
  echo "FAIL: schema.sql did not load:"; cat "$tmp/oids"; exit 1; }
make_sed <"$tmp/oids"

failures=0
checks=0
for f in "$FX"/*.sql; do
  n="$(basename "$f" .sql)"
  [ "$n" = schema ] && continue
  checks=$((checks + 1))
  run_fixture dc "$f" >"$tmp/got"
  case "$n" in
  postgresjs_*)
    unpad <"$FX/$n.out" >"$tmp/want"; unpad <"$tmp/got" >"$tmp/got2"
    mv "$tmp/got2" "$tmp/got" ;;
  psql_l_*|psql_lplus_*)
    head -1 "$FX/$n.out" | unpad >"$tmp/want"
    if grep -q '^ default *| ' "$tmp/got"; then
      head -1 "$tmp/got" | unpad >"$tmp/got2"
    else
      echo "no row for the current database" >"$tmp/got2"
    fi
    mv "$tmp/got2" "$tmp/got" ;;
  *) cp "$FX/$n.out" "$tmp/want" ;;
  esac
  if ! cmp -s "$tmp/want" "$tmp/got"; then
    echo "FAIL: $n ($(head -1 "$f" | sed 's/^-- //'))"
    diff "$tmp/want" "$tmp/got" | head -20
    failures=$((failures + 1))
  fi
done
echo "test_sql_catalog: $checks queries, $failures failed"
[ "$failures" -eq 0 ]
