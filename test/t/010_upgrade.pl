# The upgrade path: a database made with the first released version (0.1.0, its install
# script kept in sql/ as it shipped) holds a decided control year, a proactive year, the
# operator's parameter rows and a pg_cron job; ALTER EXTENSION inami UPDATE brings it to
# the version of inami.control. Then
#   (a) nothing loaded is lost: every table's rows, on the columns 0.1.0 had, are the same;
#   (b) its schema is that of a fresh install: pg_dump --schema-only --binary-upgrade (which
#       writes out every member of the extension, where a plain dump writes CREATE
#       EXTENSION alone) of both databases is the same, but for object identifiers;
#   (c) the shipped parameter rows are the new version's, the operator's rows are kept;
# and the scheduled job still runs.
use strict;
use warnings;
use FindBin;
use IPC::Run qw(run);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = "$FindBin::Bin/../..";
my $first = '0.1.0';
my ($current) = slurp_file("$root/inami.control") =~ /^default_version = '([^']+)'/m;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.host = '@{[ $node->host ]}'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_cron');
$node->safe_psql('postgres', 'CREATE DATABASE upgraded');
$node->safe_psql('postgres', 'CREATE DATABASE fresh');

like($node->safe_psql('postgres', q{
	SELECT string_agg(source || '->' || target, ' ' ORDER BY source, target)
	FROM pg_extension_update_paths('inami') WHERE path IS NOT NULL}),
	qr/\Q$first->$current\E/, "pg_extension_update_paths: $first reaches $current");

# The files, where the server can read them.
my $dir = PostgreSQL::Test::Utils::tempdir();
my ($out, $err) = ('', '');
run([ $^X, "$root/test/data/scenario/make-scenario.pl", '--out', $dir ], '>', \$out, '2>', \$err)
	or BAIL_OUT("make-scenario.pl: $err");
for my $kind ('pro01', 'pro03')
{
	run([ $^X, "$root/bench/gen_flows.pl", '--kind', $kind, '--households', 40, '--seed', 7,
		'--out', "$dir/$kind.xml" ], '2>', \$err) or BAIL_OUT("gen_flows.pl: $err");
}

# A database as 0.1.0 left it, in use.
$node->safe_psql('upgraded', "CREATE EXTENSION inami VERSION '$first'");
is($node->safe_psql('upgraded', "SELECT extversion FROM pg_extension WHERE extname = 'inami'"),
	$first, "installed at $first");
$node->safe_psql('upgraded', slurp_file("$dir/ipcal.sql"));
$node->safe_psql('upgraded', qq{
	SELECT inami.load_flow_file('$dir/syst01.xml');
	SELECT inami.load_flow_file('$dir/syst04_1.xml');
	SELECT inami.load_flow_file('$dir/syst04_2.xml');
	SELECT inami.adopt_unlisted_households(2024, '300');
	SELECT inami.load_flow_file('$dir/pro01.xml');
	SELECT inami.load_flow_file('$dir/pro03.xml');
});
$node->safe_psql('upgraded', q{
	INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source)
	SELECT DISTINCT 2023, i.code, 1, 'test: counted', 'operator row'
	FROM inami.pro03_ipcal i
	WHERE NOT EXISTS (SELECT 1 FROM inami.ipcal_rule r WHERE r.tax_year = 2023 AND r.code = i.code)});
$node->safe_psql('upgraded', slurp_file("$dir/events.sql"));
$node->safe_psql('upgraded', 'CALL inami.run_systematic_control(2024)');
$node->safe_psql('upgraded', 'CALL inami.run_proactive_flow(2024)');
$node->safe_psql('upgraded', q{
	INSERT INTO inami.maf_income_bracket (year, income_from, ceiling, label, source) VALUES
		(2024, 0, 250, 'lowest', 'operator table'), (2024, 20000, 450, 'second', 'operator table');
	INSERT INTO inami.proactive_outcome (year, request_number, niss, category, contacted)
	SELECT d.year, d.request_number, m.niss, 5, true
	FROM inami.proactive_decision d JOIN inami.pro01_member m USING (year, request_number)
	WHERE d.code = 'OK' ORDER BY d.request_number, m.niss LIMIT 3;
});
$node->safe_psql('postgres', q{
	SELECT cron.schedule_in_database('inami-control-2024', '0 3 * * *',
	                                 'CALL inami.run_systematic_control(2024)', 'upgraded')});

is($node->safe_psql('upgraded', q{
	SELECT (SELECT count(*) FROM inami.control_decision WHERE control_year = 2024) > 50
	   AND (SELECT count(*) FROM inami.proactive_decision WHERE year = 2024) = 40
	   AND (SELECT count(*) FROM inami.proactive_outcome) > 0
	   AND (SELECT count(*) FROM inami.household_event) > 0}),
	't', 'the 0.1.0 database holds a decided control year, a proactive year, outcomes and events');

# (a) Every table of the extension, on the columns it had in 0.1.0: its rows as one digest.
my $tables = $node->safe_psql('upgraded', q{
	SELECT c.oid::regclass || ' ' || string_agg(quote_ident(a.attname), ',' ORDER BY a.attnum)
	FROM pg_depend d
	JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid AND c.relkind = 'r'
	JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
	  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'inami')
	GROUP BY c.oid ORDER BY 1});
my @tables = map { [ split / /, $_, 2 ] } split /\n/, $tables;
cmp_ok(scalar @tables, '>=', 25, scalar(@tables) . ' tables in 0.1.0');
my $digests = sub {
	my ($db) = @_;
	my %d;
	for my $t (@tables)
	{
		my ($name, $cols) = @$t;
		$d{$name} = $node->safe_psql($db, qq{
			SELECT count(*) || ' ' || coalesce(md5(string_agg(r::text, E'\\n' ORDER BY r::text)), '-')
			FROM (SELECT $cols FROM $name) r});
	}
	return \%d;
};
my $before = $digests->('upgraded');
my $cron_before = $node->safe_psql('postgres', 'SELECT jobid, schedule, command, database FROM cron.job');

$node->safe_psql('upgraded', 'ALTER EXTENSION inami UPDATE');
is($node->safe_psql('upgraded', "SELECT extversion FROM pg_extension WHERE extname = 'inami'"),
	$current, "ALTER EXTENSION inami UPDATE reaches $current");

my $after = $digests->('upgraded');
for my $t (@tables)
{
	is($after->{ $t->[0] }, $before->{ $t->[0] }, "$t->[0]: every row kept ($before->{$t->[0]})");
}

# (b) The schema of the updated database is that of a fresh install.
$node->safe_psql('fresh', 'CREATE EXTENSION inami');
my $schema = sub {
	my ($db) = @_;
	my ($dump, $derr) = ('', '');
	run([ 'pg_dump', '--schema-only', '--binary-upgrade', '-d', $node->connstr($db) ],
		'>', \$dump, '2>', \$derr) or die "pg_dump $db: $derr";
	# What identifies objects (OIDs, relfilenodes) and the database: not the schema.
	$dump =~ s/^SELECT pg_catalog\.binary_upgrade_(set_next_\w+|create_empty_extension)\(.*\n//mg;
	$dump =~ s/^\\(un)?restrict \w+\n//mg;
	# The sequences' positions are data: (a) and the run below check them.
	$dump =~ s/^SELECT pg_catalog\.setval\(.*\n//mg;
	$dump =~ s/^(-- For binary upgrade, set \w+.*\n)?UPDATE pg_catalog\.pg_(class|database)\s+SET\s+\w*frozenxid.*\n(.*\n)*?.*;\n//mg;
	$dump =~ s/^-- For binary upgrade, .*\n//mg;
	$dump =~ s/\b(upgraded|fresh)\b/DB/g;
	return $dump;
};
my ($up_schema, $fresh_schema) = ($schema->('upgraded'), $schema->('fresh'));
cmp_ok(length($fresh_schema), '>', 100_000, 'pg_dump --binary-upgrade writes out every object of the extension');
my $same = $up_schema eq $fresh_schema;
ok($same, "pg_dump --schema-only of the updated database equals that of a fresh $current install");
unless ($same)
{
	my $base = $node->basedir;
	PostgreSQL::Test::Utils::append_to_file("$base/upgraded.sql", $up_schema);
	PostgreSQL::Test::Utils::append_to_file("$base/fresh.sql", $fresh_schema);
	my $diff = '';
	run([ 'diff', '-u', "$base/fresh.sql", "$base/upgraded.sql" ], '>', \$diff);
	diag(substr($diff, 0, 20000));
}

# (c) The parameter tables: the shipped rows are the new version's, the operator's kept.
my $params = $node->safe_psql('fresh', q{
	SELECT unnest(extconfig)::regclass FROM pg_extension WHERE extname = 'inami'
	INTERSECT
	SELECT a.attrelid::regclass FROM pg_attribute a WHERE a.attname = 'shipped' AND NOT a.attisdropped
	ORDER BY 1});
my @params = split /\n/, $params;
cmp_ok(scalar @params, '>=', 10, scalar(@params) . ' parameter tables');
for my $t (@params)
{
	my $rows = sub {
		my ($db, $which) = @_;
		$node->safe_psql($db, qq{SELECT count(*) || ' ' || coalesce(md5(string_agg(r::text, E'\\n' ORDER BY r::text)), '-')
		                         FROM $t r WHERE $which});
	};
	is($rows->('upgraded', 'shipped'), $rows->('fresh', 'shipped'), "$t: the shipped rows of $current");
}
is($node->safe_psql('upgraded', q{
	SELECT string_agg(year || ' ' || income_from || ' ' || ceiling, ', ' ORDER BY income_from)
	FROM inami.maf_income_bracket WHERE NOT shipped}),
	'2024 0 250, 2024 20000 450', "the operator's MAF brackets are kept");
is($node->safe_psql('upgraded', q{SELECT count(*) FROM inami.ipcal_rule WHERE NOT shipped}),
	$node->safe_psql('upgraded', q{SELECT count(*) FROM inami.ipcal_rule}) =~ s/\s//gr,
	"the operator's IPCAL rows are kept");

# The scheduled job is as it was, and its command runs on the updated database.
is($node->safe_psql('postgres', 'SELECT jobid, schedule, command, database FROM cron.job'),
	$cron_before, 'the pg_cron job is kept');
my $command = $node->safe_psql('postgres', q{SELECT command FROM cron.job WHERE jobname = 'inami-control-2024'});
$node->safe_psql('upgraded', $command);
is($node->safe_psql('upgraded', q{
	SELECT status FROM inami.control_run WHERE kind = 'systematic_control' ORDER BY run_id DESC LIMIT 1}),
	'succeeded', "the job's command runs on $current");
is($node->safe_psql('upgraded', 'SELECT max(run_id) FROM inami.control_run'), '3',
	'its run is logged after the two runs of 0.1.0 (the sequences go on)');
is($digests->('upgraded')->{'inami.control_decision'}, $before->{'inami.control_decision'},
	'on the same data it changes no decision (each keeps its run_id)');

$node->stop;
done_testing();
