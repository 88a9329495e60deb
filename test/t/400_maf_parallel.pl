# maf_household and the MAF counter split over parallel workers (partial aggregates,
# serialize, combine) give the same answers as one process.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('maf_parallel');
$node->init;
$node->append_conf('postgresql.conf', "max_worker_processes = 8\nmax_parallel_workers = 4\n");
$node->start;

# 200 groups of 500 persons (large, so that the planner splits each group over the
# workers; every other group has TP persons hosted by a host family), rows in random order.
$node->safe_psql('postgres', q{
	CREATE EXTENSION inami;
	CREATE FUNCTION niss(d date, s int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
		SELECT nine || lpad((97 - ((CASE WHEN d >= '2000-01-01' THEN 2000000000 ELSE 0 END
		                            + nine::bigint) % 97))::text, 2, '0')
		FROM (SELECT to_char(d, 'YYMMDD') || lpad(s::text, 3, '0') AS nine) AS x $$;
	CREATE TABLE person AS
	SELECT a AS address, niss(date '1950-01-01' + k % 20000, a) AS niss,
	       (a + k) % 3 = 0 AS has_im,
	       CASE (a + k) % 4 WHEN 0 THEN 'integration_allowance_abated' ELSE 'benefit' END AS im_basis,
	       a % 2 = 0 AND k % 10 <> 0 AS tp,
	       k % 10 = 0 AS host
	FROM generate_series(1, 200) AS a, generate_series(1, 500) AS k
	ORDER BY random();
	CREATE TABLE contribution AS
	SELECT i % 5000 AS household, round((random() * 200 - 20)::numeric, 2) AS amount
	FROM generate_series(1, 200000) AS i ORDER BY random();
	ANALYZE person, contribution;
});

my $households = q{
	SELECT md5(string_agg(address || ':' || h::text, ',' ORDER BY address)) FROM (
		SELECT address, inami.maf_household(2024, niss, NULL, has_im, im_basis, tp, host, NULL, NULL) AS h
		FROM person GROUP BY address) s};
my $refunds = q{
	SELECT md5(string_agg(household || ':' || r, ',' ORDER BY household)) FROM (
		SELECT household, inami.maf_refunded(amount, 450) AS r FROM contribution GROUP BY household) s};
my $force = q{
	SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
	SET max_parallel_workers_per_gather = 2; SET enable_hashagg = off;
};
my $serial = 'SET max_parallel_workers_per_gather = 0;';

for my $case ([ 'maf_household', $households ], [ 'maf_refunded', $refunds ])
{
	my ($name, $sql) = @$case;
	my $plan = $node->safe_psql('postgres', "$force EXPLAIN (COSTS OFF) $sql");
	like($plan, qr/Partial GroupAggregate/, "$name: the plan has partial aggregates in workers");
	my $one = $node->safe_psql('postgres', "$serial $sql");
	my $par = $node->safe_psql('postgres', "$force $sql");
	isnt($one, '', "$name: the serial run answers");
	is($par, $one, "$name: the parallel run gives the same answer as one process");
}

# Every person of every address is in the answer, once.
is($node->safe_psql('postgres', "$force SELECT count(*) FROM (SELECT unnest(inami.maf_household(2024, niss, NULL, has_im, im_basis, tp, host, NULL, NULL)) FROM person GROUP BY address) s"),
	$node->safe_psql('postgres', 'SELECT count(*) FROM person'),
	'maf_household in parallel: every person once');

$node->stop;
done_testing();
