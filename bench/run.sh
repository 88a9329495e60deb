#!/usr/bin/env bash
# Run the benchmarks of bench/ (all, or those named) in one throwaway cluster, as root.
# Each bench/NAME.sh is sourced with the helpers of bench/lib.sh and prints its ratios.
# The extension is built without assertions (INAMI_BUILD=release), as it ships; set
# INAMI_PGROOT to build and run against a private copy of PostgreSQL (tools/common.sh).
source "$(dirname "${BASH_SOURCE[0]}")/../tools/common.sh"
export INAMI_BUILD=release
setup_throwaway "shared_buffers = '2GB'
work_mem = '256MB'
maintenance_work_mem = '1GB'
max_parallel_workers_per_gather = 2
max_wal_size = '8GB'
synchronous_commit = off
jit = off"
source "$INAMI_ROOT/bench/lib.sh"
bench_sql -c "CREATE EXTENSION inami"

names=("$@")
[ ${#names[@]} -eq 0 ] && names=($(cd "$INAMI_ROOT/bench" && ls [a-z]*.sh | grep -v -e '^lib.sh$' -e '^run.sh$' | sed 's/\.sh$//'))
for name in "${names[@]}"; do
	say "benchmark $name"
	source "$INAMI_ROOT/bench/$name.sh"
done
