#!/usr/bin/env bash
# Runs each libFuzzer target given as an argument for FUZZ_SECONDS seconds,
# seeded from its corpus (tests/fuzz/corpus/<name>/ plus the seeds the target
# names below).  Exits non-zero on the first crash, leak or timeout.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${FUZZ_SECONDS:-60}"
shared="${DATACAVE_SHARED:-../shared}"
for bin in "$@"; do
  name=$(basename "$bin")
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/corpus"
  [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/corpus/"
  case "$name" in
    fuzz_toml|fuzz_config)
      if [ -d "$shared/toml-test/valid" ]; then
        find "$shared/toml-test/valid" -name '*.toml' -exec cp {} "$work/corpus/" \; 2>/dev/null || true
      fi
      cp config.example.toml "$work/corpus/" ;;
    fuzz_sql_parser)
      # Statements from the sqllogictest files, one seed each (the first
      # 400), and the pgbench statements.
      if [ -d "$shared/slt" ]; then
        grep -hE '^(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|WITH|VALUES)' "$shared"/slt/*.test \
          | awk -v d="$work/corpus" 'NR <= 400 { f = sprintf("%s/slt-%04d", d, NR); print > f; close(f) }'
      fi
      printf 'UPDATE pgbench_accounts SET abalance = abalance + -2870 WHERE aid = 17;' > "$work/corpus/pgbench-1"
      printf "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 2, 3, -5, CURRENT_TIMESTAMP);" > "$work/corpus/pgbench-2"
      printf "select c.relname from pg_catalog.pg_class c where c.relname OPERATOR(pg_catalog.~) '^(t)\$' COLLATE pg_catalog.default and c.oid = 't'::regclass and x = ANY(ARRAY[1,2]);" > "$work/corpus/psql-1"
      ;;
    fuzz_control)
      # A framed backup request, as `datacave backup` sends it.
      printf '\x00\x00\x00\x17backup /tmp/backup-seed' > "$work/corpus/backup-1"
      printf 'backup /tmp/backup-seed' > "$work/corpus/backup-2" ;;
    fuzz_elf)
      for f in build/modules/*.so build/tests/modules/*.so; do
        [ -f "$f" ] && cp "$f" "$work/corpus/"
      done
      true ;;
  esac
  echo "== $name for ${seconds}s ($(ls "$work/corpus" | wc -l) seeds)"
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
         -max_len=65536 -artifact_prefix="$work/" "$work/corpus" 2>"$work/log" || {
    tail -n 60 "$work/log"
    echo "fuzz target $name failed; artifacts:"; ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* 2>/dev/null || true
    mkdir -p build/fuzz-artifacts && cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* build/fuzz-artifacts/ 2>/dev/null || true
    exit 1
  }
  grep -E '^(#[0-9]+\s+DONE|Done)' "$work/log" | tail -n 1 || true
  rm -rf "$work"
  trap - EXIT
done
echo "fuzz: all targets ran clean"
