# The cost of the search_path every PL/pgSQL function of inami runs with (SET search_path =
# pg_catalog, pg_temp, doc/security.md): inami.maf_ceiling as installed
# against a copy of it, same body, without the SET clause, each called
# SEARCH_PATH_BENCH_CALLS times (default 1000000) in one query, in turn, round after round.
# The difference divided by the number of calls is what the clause costs per call.
SEARCH_PATH_BENCH_CALLS=${SEARCH_PATH_BENCH_CALLS:-1000000}
echo "  $SEARCH_PATH_BENCH_CALLS calls of each"

bench_sql <<'SQL'
SET client_min_messages = warning;
DROP FUNCTION IF EXISTS public.bench_maf_ceiling_no_path(int, numeric, boolean);
SELECT pg_catalog.format('CREATE FUNCTION public.bench_maf_ceiling_no_path(year int, household_income numeric, maf_social boolean) '
                         'RETURNS numeric LANGUAGE plpgsql STABLE PARALLEL SAFE AS %L', prosrc)
FROM pg_catalog.pg_proc WHERE oid = 'inami.maf_ceiling(int, numeric, boolean)'::regprocedure
\gexec
SELECT p.proname, p.proconfig FROM pg_catalog.pg_proc p
WHERE p.oid IN ('inami.maf_ceiling(int, numeric, boolean)'::regprocedure,
                'public.bench_maf_ceiling_no_path(int, numeric, boolean)'::regprocedure);
SQL

bench_rounds \
	"maf_ceiling as installed (SET search_path)" \
	"SELECT sum(inami.maf_ceiling(2024, NULL, true)) FROM generate_series(1, $SEARCH_PATH_BENCH_CALLS)" \
	"maf_ceiling's body without the SET clause" \
	"SELECT sum(public.bench_maf_ceiling_no_path(2024, NULL, true)) FROM generate_series(1, $SEARCH_PATH_BENCH_CALLS)"
bench_ratio "maf_ceiling as installed (SET search_path)" "maf_ceiling's body without the SET clause"
awk -v a="${BENCH_MS["maf_ceiling as installed (SET search_path)"]}" \
	-v b="${BENCH_MS["maf_ceiling's body without the SET clause"]}" -v n="$SEARCH_PATH_BENCH_CALLS" \
	'BEGIN { printf "  the SET clause: %.2f us per call\n", (a - b) * 1000 / n }'
bench_sql -c "DROP FUNCTION public.bench_maf_ceiling_no_path(int, numeric, boolean)"
