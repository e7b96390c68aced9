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
