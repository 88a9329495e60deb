# R3 aggregates across real parallel workers: the workers launch, the states travel
# serialised (serialise/deserialise/combine), the answers equal the serial ones, and an
# error raised in a worker (a second income year, a missing IPCAL code) reaches the
# client with its SQLSTATE, never a crash.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('parallel');
$node->init;
$node->append_conf('postgresql.conf', qq{
max_worker_processes = 8
max_parallel_workers = 8
max_parallel_workers_per_gather = 2
lc_messages = 'C'
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION inami;
	INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source) VALUES
	    (2023, '1250', 1, 'test sample: added', 'test: sample row, not the real annex'),
	    (2023, '1260', -1, 'test sample: subtracted', 'test: sample row, not the real annex'),
	    (2023, '1270', 0.1, 'test sample: a tenth', 'test: sample row, not the real annex');
	SELECT setseed(0.1);
	CREATE TABLE member AS
	SELECT h, (ARRAY['00', '00', '00', '01', '99'])[1 + floor(random() * 5)::int] AS rc,
	       round((random() * 50000 - 5000)::numeric, 2) AS inc,
	       '2004-12-25'::date + floor(random() * 15)::int AS bd, 2022 AS y
	FROM generate_series(1, 100000) AS h, generate_series(1, 3) AS k;
	CREATE TABLE item AS
	SELECT m, (ARRAY['1250', '1260', '1270'])[1 + floor(random() * 3)::int] AS code,
	       round((random() * 10000)::numeric, 2) AS amount
	FROM generate_series(1, 300000) AS m;
	ANALYZE member, item;
});

my $force = q{
	SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
	SET min_parallel_table_scan_size = 0; SET parallel_leader_participation = off;
};
my $serial = 'SET max_parallel_workers_per_gather = 0;';
my $known = q{SELECT inami.household_income(rc, inc, bd, y) FROM member
	WHERE rc = '00' OR bd > '2005-01-01'};
my $ipcal = q{SELECT inami.ipcal_income(code, amount, 2023) FROM item};

for my $case ([ 'household_income', $known ], [ 'ipcal_income', $ipcal ])
{
	my ($name, $query) = @$case;
	my $plan = $node->safe_psql('postgres',
		"$force EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) $query");
	like($plan, qr/Partial Aggregate/, "$name: the plan holds a Partial Aggregate");
	like($plan, qr/Workers Launched: [12]/, "$name: parallel workers did launch");
	my $par = $node->safe_psql('postgres', "$force $query");
	my $ser = $node->safe_psql('postgres', "$serial $query");
	isnt($ser, '', "$name: the serial answer is a total");
	is($par, $ser, "$name: the workers' combined answer equals the serial one");
}

# Grouped: a few groups (by return code), so that partial aggregates per worker pay; the
# planner splits household_income as it splits sum(), and the answers are the serial ones.
my $grouped_force = q{
	SET parallel_setup_cost = 0; SET min_parallel_table_scan_size = 0;
	SET parallel_leader_participation = off;
};
my $grouped = q{SELECT rc, inami.household_income(rc, inc, bd, y) FROM member
	WHERE rc = '00' OR bd > '2005-01-01' GROUP BY rc ORDER BY rc};
my $grouped_plan = $node->safe_psql('postgres',
	"$grouped_force EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) $grouped");
like($grouped_plan, qr/Partial (Hash|Group)Aggregate/, 'grouped: the plan holds a partial aggregate per worker');
like($grouped_plan, qr/Finalize (Hash|Group)Aggregate/, 'grouped: and finalizes the combined states');
like($grouped_plan, qr/Workers Launched: [12]/, 'grouped: parallel workers did launch');
my $grouped_ser = $node->safe_psql('postgres', "$serial $grouped");
like($grouped_ser, qr/^00\|\d+\.\d\d$/m, 'grouped: the serial answer has a total for code 00');
is($node->safe_psql('postgres', "$grouped_force $grouped"), $grouped_ser,
	'grouped: the workers\' answers equal the serial ones');

# The SQL reference of the same known members, summed by PostgreSQL itself.
is($node->safe_psql('postgres', "$force $known"),
	$node->safe_psql('postgres', q{SELECT greatest(sum(CASE WHEN rc = '00' THEN inc ELSE 0 END), 0.00)
		FROM member WHERE rc = '00' OR bd > '2005-01-01'}),
	'household_income across workers equals sum()');
is($node->safe_psql('postgres', "$force $ipcal"),
	$node->safe_psql('postgres', q{SELECT round(sum(i.amount * r.factor), 2) FROM item i
		JOIN inami.ipcal_rule r ON r.tax_year = 2023 AND r.code = i.code}),
	'ipcal_income across workers equals round(sum(amount x factor), 2)');

# Errors raised inside workers.
my ($ret, $out, $err) = $node->psql('postgres',
	"$force SELECT inami.household_income(rc, inc, bd, CASE WHEN h = 99999 THEN 2021 ELSE y END) FROM member",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($ret, 0, 'a second income year fails the parallel query');
like($err, qr/22023: household members have different income years/, 'with its SQLSTATE and message');

$node->safe_psql('postgres', q{UPDATE item SET code = '9999' WHERE m = 250000});
($ret, $out, $err) = $node->psql('postgres', "$force $ipcal", extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($ret, 0, 'a missing IPCAL code fails the parallel query');
like($err, qr/55000: IPCAL code "9999" has no factor for tax year 2023/, 'with its SQLSTATE and message');

is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is still up');
$node->stop;
done_testing();
