# Capacity: what the work of a year costs per million households, as doc/capacity.md uses
# it. Each step runs once in a backend of its own (bench_cpu): wall time, CPU time of the
# backend (core-seconds: valid whatever else the machine runs, where wall time is not) and
# peak private memory; then the disk the tables take.
#  - loading a Syst01 and a Syst04 of CAP_HOUSEHOLDS households (default 1,000,000; made by
#    bench/gen_flows.pl, kept in FLOWS_DIR when set) with load_flow_file;
#  - run_systematic_control on them: first run, rerun;
#  - the MAF counter over CAP_CONTRIBUTIONS contributions (default 10,000,000, 30 per
#    household): maf_refund over the window of each household, maf_refunded grouped.
# The background processes' CPU (WAL writer, checkpointer) is not counted: a few percent.
CAP_HOUSEHOLDS=${CAP_HOUSEHOLDS:-1000000}
CAP_CONTRIBUTIONS=${CAP_CONTRIBUTIONS:-10000000}
cdir=${FLOWS_DIR:-$(mktemp -d /tmp/inami-capacity.XXXXXX)}
mkdir -p "$cdir"
chown postgres:postgres "$cdir"
chmod 755 "$cdir"
if [ ! -s "$cdir/syst04.xml" ] || [ "$(cat "$cdir/households" 2>/dev/null)" != "$CAP_HOUSEHOLDS" ]; then
	say "generating $CAP_HOUSEHOLDS households (Syst01, Syst04 shipment 1) into $cdir"
	perl "$INAMI_ROOT/bench/gen_flows.pl" --kind syst01 --households "$CAP_HOUSEHOLDS" --out "$cdir/syst01.xml"
	perl "$INAMI_ROOT/bench/gen_flows.pl" --kind syst04 --households "$CAP_HOUSEHOLDS" --out "$cdir/syst04.xml"
	echo "$CAP_HOUSEHOLDS" >"$cdir/households"
fi
chmod 644 "$cdir"/*.xml
printf '  Syst01 file: %d MB, Syst04 file: %d MB\n' $(( $(stat -c %s "$cdir/syst01.xml") / 1048576 )) \
	$(( $(stat -c %s "$cdir/syst04.xml") / 1048576 ))

# The IPCAL codes of the generated files, for tax year 2023 (the real list is operator data).
bench_sql -c "INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source)
SELECT 2023, c, 1, 'bench', 'bench row' FROM unnest('{1250,1251,1460,1650,2250,1286}'::text[]) AS c
ON CONFLICT DO NOTHING" >/dev/null

bench_sql -c "CHECKPOINT" >/dev/null
bench_cpu "load_flow_file, Syst01" "SELECT inami.load_flow_file('$cdir/syst01.xml')"
bench_sql -c "CHECKPOINT" >/dev/null
bench_cpu "load_flow_file, Syst04 shipment 1" "SELECT inami.load_flow_file('$cdir/syst04.xml')"
bench_sql -c "VACUUM ANALYZE" >/dev/null
bench_sql -Atc "SELECT format('  %s Syst01 households, %s members; %s Syst04 households, %s members, %s IPCAL items',
    (SELECT count(*) FROM inami.syst01_household), (SELECT count(*) FROM inami.syst01_member),
    (SELECT count(*) FROM inami.syst04_household), (SELECT count(*) FROM inami.syst04_member),
    (SELECT sum(cardinality(ipcal_code)) FROM inami.syst04_member))"
bench_sql -c "CHECKPOINT" >/dev/null
bench_cpu "run_systematic_control, first run" "CALL inami.run_systematic_control(2024)"
bench_sql -c "CHECKPOINT" >/dev/null
bench_cpu "run_systematic_control, rerun" "CALL inami.run_systematic_control(2024)"
bench_sql -c "SELECT status, counts FROM inami.control_run ORDER BY run_id DESC LIMIT 1"
bench_sql -c "SELECT c.relname, pg_size_pretty(pg_total_relation_size(c.oid)) AS total,
                     pg_size_pretty(pg_indexes_size(c.oid)) AS indexes
              FROM pg_class c WHERE c.relnamespace = 'inami'::regnamespace AND c.relkind = 'r'
                AND pg_total_relation_size(c.oid) > 1048576 ORDER BY 1"

bench_sql -v n="$CAP_CONTRIBUTIONS" >/dev/null <<'SQL'
DROP TABLE IF EXISTS bench_cap_contribution;
CREATE TABLE bench_cap_contribution AS
SELECT (i / 30)::int AS household, i AS id, date '2024-01-01' + ((i * 7919) % 366)::int AS day,
       CASE WHEN i % 50 = 0 THEN -round(((i * 31) % 5000) / 100.0, 2)
            ELSE round((1 + (i * 7919) % 15000) / 100.0, 2) END AS amount
FROM generate_series(1::bigint, :n) AS i;
VACUUM ANALYZE bench_cap_contribution;
SQL
bench_sql -Atc "SELECT format('  %s contributions: %s', count(*), pg_size_pretty(pg_total_relation_size('bench_cap_contribution'))) FROM bench_cap_contribution"
bench_cpu "maf_refund OVER (PARTITION BY household ORDER BY day, id)" \
	"SET max_parallel_workers_per_gather = 0; SELECT sum(r) FROM (SELECT inami.maf_refund(amount, 450.00) OVER (PARTITION BY household ORDER BY day, id) AS r FROM bench_cap_contribution) s"
bench_cpu "maf_refunded(amount, 450) GROUP BY household" \
	"SET max_parallel_workers_per_gather = 0; SELECT sum(r) FROM (SELECT inami.maf_refunded(amount, 450.00) AS r FROM bench_cap_contribution GROUP BY household) s"
bench_sql -c "DROP TABLE bench_cap_contribution" >/dev/null

# Leave the cluster as it was for the next benchmark.
bench_sql -c "SET client_min_messages = warning" -c "TRUNCATE inami.flow_file, inami.control_run CASCADE" \
	-c "DELETE FROM inami.ipcal_rule WHERE source = 'bench row' AND tax_year = 2023" >/dev/null
[ -n "${FLOWS_DIR:-}" ] || rm -rf "$cdir"
