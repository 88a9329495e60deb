# Helpers for the benchmarks (sourced by bench/run.sh): run SQL, time a query as the
# median of BENCH_RUNS runs (default 3), print ratios. Times are kept in BENCH_MS[label].
declare -A BENCH_MS

bench_sql() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }

# bench_median: the median of the numbers on standard input (the lower one of an even count).
bench_median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# bench_time LABEL SQL [PREP]: run SQL BENCH_RUNS times (output discarded), keep the median
# in ms; PREP, a shell command, runs untimed before each run.
bench_time() {
	local label=$1 sql=$2 prep=${3:-} runs=() t0 t1
	for ((i = 0; i < ${BENCH_RUNS:-3}; i++)); do
		[ -n "$prep" ] && eval "$prep" >/dev/null
		t0=$(date +%s%N)
		bench_sql -c "$sql" >/dev/null
		t1=$(date +%s%N)
		runs+=($(( (t1 - t0) / 1000000 )))
	done
	BENCH_MS[$label]=$(printf '%s\n' "${runs[@]}" | bench_median)
	printf '  %-58s %8d ms\n' "$label" "${BENCH_MS[$label]}"
}

# bench_rounds LABEL SQL [LABEL SQL ...]: time the queries in turn, round after round
# (BENCH_RUNS rounds), so that a drift of the machine weighs on each of them alike; keep
# each one's median in ms and print it with its runs.
bench_rounds() {
	local -a args=()
	while [ $# -gt 0 ]; do args+=("$1" "" "$2"); shift 2; done
	bench_rounds_prep "${args[@]}"
}

# bench_rounds_prep LABEL PREP SQL [LABEL PREP SQL ...]: as bench_rounds, with PREP (a shell
# command, may be empty) run untimed before each run of SQL.
bench_rounds_prep() {
	local -a labels=() preps=() sqls=() runs=()
	local i j t0 t1
	while [ $# -gt 0 ]; do labels+=("$1"); preps+=("$2"); sqls+=("$3"); runs+=(""); shift 3; done
	for ((i = 0; i < ${BENCH_RUNS:-3}; i++)); do
		for j in "${!labels[@]}"; do
			[ -n "${preps[$j]}" ] && eval "${preps[$j]}" >/dev/null
			t0=$(date +%s%N)
			bench_sql -c "${sqls[$j]}" >/dev/null
			t1=$(date +%s%N)
			runs[$j]+="$(( (t1 - t0) / 1000000 )) "
		done
	done
	for j in "${!labels[@]}"; do
		BENCH_MS[${labels[$j]}]=$(printf '%s\n' ${runs[$j]} | bench_median)
		printf '  %-58s %8d ms  (%s)\n' "${labels[$j]}" "${BENCH_MS[${labels[$j]}]}" "${runs[$j]% }"
	done
}

# bench_peak_rss APP: the peak RssAnon (kB) of the backend whose application_name is APP,
# sampled until it ends; printed on stdout.
bench_peak_rss() {
	local app=$1 pid="" peak=0 v
	for _ in $(seq 1 600); do
		pid=$(bench_sql -Atc "SELECT pid FROM pg_stat_activity WHERE application_name = '$app'")
		[ -n "$pid" ] && break
		sleep 0.05
	done
	while [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; do
		v=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
		[ -n "$v" ] && [ "$v" -gt "$peak" ] && peak=$v
		sleep 0.1
	done
	echo "$peak"
}

# bench_cpu LABEL SQL: run SQL once in a backend of its own and print its wall time, its
# CPU time (user + system of the backend process, from /proc: core-seconds, whatever else
# the machine runs) and its peak RssAnon; the CPU seconds go to BENCH_CPU[LABEL].
declare -A BENCH_CPU
bench_cpu() {
	local label=$1 sql=$2 app="bench_cpu_$$" f peakfile out t0 t1 hz
	hz=$(getconf CLK_TCK)
	f=$(mktemp)
	peakfile=$(mktemp)
	printf '%s\n' 'SELECT pg_backend_pid() AS pid \gset' '\setenv BPID :pid' \
		"\\! awk '{ print \"before\", \$14 + \$15 }' /proc/\$BPID/stat" '\o /dev/null' "$sql;" '\o' \
		"\\! awk '{ print \"after\", \$14 + \$15 }' /proc/\$BPID/stat" >"$f"
	bench_peak_rss "$app" >"$peakfile" &
	t0=$(date +%s%N)
	out=$(PGAPPNAME=$app bench_sql -At -f "$f")
	t1=$(date +%s%N)
	wait
	BENCH_CPU[$label]=$(awk -v hz="$hz" '$1 == "before" { b = $2 } $1 == "after" { a = $2 } END { printf "%.1f", (a - b) / hz }' <<<"$out")
	BENCH_MS[$label]=$(( (t1 - t0) / 1000000 ))
	printf '  %-58s %8.1f s wall %8s s CPU  peak RssAnon %5d MB\n' "$label" \
		"$(awk -v ms="${BENCH_MS[$label]}" 'BEGIN { print ms / 1000 }')" "${BENCH_CPU[$label]}" $(( $(cat "$peakfile") / 1024 ))
	rm -f "$f" "$peakfile"
}

# bench_ratio A B: print how A compares to B (A's time / B's time).
bench_ratio() {
	local a=$1 b=$2
	awk -v x="${BENCH_MS[$a]}" -v y="${BENCH_MS[$b]}" -v a="$a" -v b="$b" \
		'BEGIN { printf "  ratio %6.2fx  %s / %s\n", (y > 0 ? x / y : 0), a, b }'
}
