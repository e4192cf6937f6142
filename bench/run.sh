#!/usr/bin/env bash
# Run the benchmarks: installs wrk, sqlite3 and PostgreSQL from Debian when missing, builds
# release binaries, and prints a Markdown table (copy it into bench/README.md).
#   bench/run.sh [--people N] [--backend sqlite|postgres|both] [--reuse] [--projects-only]
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
command -v psql >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
cargo build --release -p anchora -p anchora-bench
target_dir="${CARGO_TARGET_DIR:-target}"
exec "$target_dir/release/anchora-bench" --anchora "$target_dir/release/anchora" "$@"
