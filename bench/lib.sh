# Helpers for the benchmarks (sourced by bench/run.sh): run SQL, time a query as the
# median of three runs, print ratios. Times are kept in BENCH_MS[label].
declare -A BENCH_MS

bench_sql() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }

# bench_time LABEL SQL [PREP]: run SQL three times (output discarded), keep the median in
# ms; PREP, a shell command, runs untimed before each run.
bench_time() {
	local label=$1 sql=$2 prep=${3:-} runs=() t0 t1
	for i in 1 2 3; do
		[ -n "$prep" ] && eval "$prep" >/dev/null
		t0=$(date +%s%N)
		bench_sql -c "$sql" >/dev/null
		t1=$(date +%s%N)
		runs+=($(( (t1 - t0) / 1000000 )))
	done
	BENCH_MS[$label]=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p)
	printf '  %-58s %8d ms\n' "$label" "${BENCH_MS[$label]}"
}

# bench_ratio A B: print how A compares to B (A's time / B's time).
bench_ratio() {
	local a=$1 b=$2
	awk -v x="${BENCH_MS[$a]}" -v y="${BENCH_MS[$b]}" -v a="$a" -v b="$b" \
		'BEGIN { printf "  ratio %6.2fx  %s / %s\n", (y > 0 ? x / y : 0), a, b }'
}
