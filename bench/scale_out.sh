# Scale-out: household_income grouped by household over a coordinator and two shards
# (postgres_fdw foreign partitions, the aggregate run on the shards) against the same query
# on one node, on the same rows; and the rows that cross the network per household, with
# the aggregate pushed down and without; then the load of a Syst_01 through the coordinator
# against one node's. The shards are two databases of the benchmark's cluster (one machine:
# this measures the overhead of the coordinator, not a speedup).
SCALE_BENCH_HOUSEHOLDS=${SCALE_BENCH_HOUSEHOLDS:-300000}
echo "  $SCALE_BENCH_HOUSEHOLDS households, 1 to 5 members each"

# The members of household h: 1 + h % 5; one in nine with an unknown income.
scale_members="SELECT lpad(h::text, 18, '0') AS household,
       CASE WHEN (h + k) % 9 = 0 THEN '01' ELSE '00' END AS return_code,
       CASE WHEN (h + k) % 9 = 0 THEN NULL ELSE round(((h * 37 + k * 101) % 40000)::numeric + 0.5, 2) END AS income,
       date '1950-01-01' + (h * 7 + k) % 25000 AS birth_date
FROM generate_series(1, $SCALE_BENCH_HOUSEHOLDS) AS h, generate_series(1, 5) AS k WHERE k <= 1 + h % 5"

for db in bench_shard1 bench_shard2; do
	bench_sql -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
	psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION inami"
done
bench_sql <<SQL
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT inami.add_shard('bench_shard1', 'host=$PGHOST port=$PGPORT dbname=bench_shard1');
SELECT inami.add_shard('bench_shard2', 'host=$PGHOST port=$PGPORT dbname=bench_shard2');
SELECT inami.create_sharded_table('bench_member', 'household text NOT NULL, return_code text, income numeric, birth_date date', 'household');
CREATE TABLE bench_member_one AS $scale_members;
ANALYZE bench_member_one;
SQL
# Each shard makes its own rows (those shard_of places there): nothing crosses to load.
for pos in 0 1; do
	psql -X -q -v ON_ERROR_STOP=1 -d "bench_shard$((pos + 1))" \
		-c "INSERT INTO bench_member SELECT * FROM ($scale_members) m WHERE inami.shard_of(household, 2) = $pos" \
		-c "ANALYZE bench_member"
done
bench_sql -c "ANALYZE bench_member" \
	-c "SELECT (SELECT count(*) FROM bench_member_one) AS members_one_node, (SELECT count(*) FROM bench_member) AS members_sharded"

scale_query="SELECT sum(r), count(*) FROM (SELECT household, inami.household_income(return_code, income, birth_date, 2022) AS r FROM %s GROUP BY household) s"
bench_sql -c "SET enable_partitionwise_aggregate = on" -c "EXPLAIN (VERBOSE, COSTS OFF) $(printf "$scale_query" bench_member)"

# Rows the coordinator received from the shards per household: the actual rows of the
# foreign scans, over the households.
scale_rows() {
	bench_sql -At <<SQL
SET enable_partitionwise_aggregate = $1;
DO \$\$
DECLARE
    plan jsonb;
    fetched numeric;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) $(printf "$scale_query" bench_member)' INTO plan;
    SELECT sum((n ->> 'Actual Rows')::numeric) INTO fetched
    FROM jsonb_path_query(plan, 'strict \$.** ? (@."Node Type" == "Foreign Scan")') AS n;
    RAISE NOTICE 'partitionwise aggregate $1: % rows from the shards, % per household',
        fetched, round(fetched / $SCALE_BENCH_HOUSEHOLDS, 2);
END;
\$\$;
SQL
}
scale_rows on
scale_rows off

bench_rounds \
	"scale-out: household_income GROUP BY household, one node" "$(printf "$scale_query" bench_member_one)" \
	"scale-out: the same, coordinator + 2 shards (pushed down)" "SET enable_partitionwise_aggregate = on; $(printf "$scale_query" bench_member)" \
	"scale-out: the same, coordinator + 2 shards (rows fetched)" "SET enable_partitionwise_aggregate = off; $(printf "$scale_query" bench_member)"
bench_ratio "scale-out: the same, coordinator + 2 shards (pushed down)" "scale-out: household_income GROUP BY household, one node"
bench_ratio "scale-out: the same, coordinator + 2 shards (rows fetched)" "scale-out: household_income GROUP BY household, one node"

# Loading a Syst_01 of SCALE_BENCH_HOUSEHOLDS households through the coordinator
# (load_flow_file_sharded: the file read once there, each shard sent its part into a large
# object, the shards loading at once) against load_flow_file of the same file on one node;
# then the coordinator's backend over one sharded load: its CPU and its peak RssAnon.
scale_file=$(mktemp /tmp/inami_bench_syst01_XXXXXX)
perl "$INAMI_ROOT/bench/gen_flows.pl" --kind syst01 --year 2031 --households "$SCALE_BENCH_HOUSEHOLDS" --out "$scale_file"
chmod 644 "$scale_file"
echo "  a Syst01 of $(( $(stat -c %s "$scale_file") / 1048576 )) MB, $SCALE_BENCH_HOUSEHOLDS households"
scale_unload="for db in postgres bench_shard1 bench_shard2; do psql -X -q -v ON_ERROR_STOP=1 -d \$db -c \"DELETE FROM inami.flow_file WHERE kind = 'Syst01' AND year = 2031\"; done"
bench_rounds_prep \
	"scale-out: load_flow_file of a Syst01, one node" "$scale_unload" "SELECT inami.load_flow_file('$scale_file')" \
	"scale-out: load_flow_file_sharded, coordinator + 2 shards" "$scale_unload" "SELECT * FROM inami.load_flow_file_sharded('$scale_file')"
bench_ratio "scale-out: load_flow_file_sharded, coordinator + 2 shards" "scale-out: load_flow_file of a Syst01, one node"
eval "$scale_unload"
bench_cpu "scale-out: load_flow_file_sharded, the coordinator's backend" "SELECT * FROM inami.load_flow_file_sharded('$scale_file')"
eval "$scale_unload"
rm -f "$scale_file"

bench_sql -c "DROP TABLE bench_member, bench_member_one" -c "DELETE FROM inami.sharded_table" \
	-c "DELETE FROM inami.shard" -c "DROP SERVER bench_shard1, bench_shard2 CASCADE"
for db in bench_shard1 bench_shard2; do bench_sql -c "DROP DATABASE $db"; done
