# The client examples of the README (doc/examples/), run as a user would run them against
# a server: Python with psycopg (Debian's python3-psycopg) and a shell script with psql.
# Each shows in the README as it is in doc/examples/, and each prints what the database
# holds.
use strict;
use warnings;
use FindBin;
use IPC::Run qw(run);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = "$FindBin::Bin/../..";
my $examples = "$root/doc/examples";
my $readme = slurp_file("$root/README.md");
for my $f ('control_year.py', 'control_year.sh')
{
	my $code = slurp_file("$examples/$f");
	ok(index($readme, $code) >= 0, "README.md shows doc/examples/$f as it is");
}

my $dir = PostgreSQL::Test::Utils::tempdir();
my $err = '';
run([ $^X, "$root/test/data/scenario/make-scenario.pl", '--out', $dir ], '>', \my $gen, '2>', \$err)
	or BAIL_OUT("make-scenario.pl: $err");

my $node = PostgreSQL::Test::Cluster->new('clients');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION inami');
$node->safe_psql('postgres', slurp_file("$dir/ipcal.sql"));
local $ENV{PGHOST} = $node->host;
local $ENV{PGPORT} = $node->port;
local $ENV{PGDATABASE} = 'postgres';
# Debian's Python, where python3-psycopg is installed (not a python3 earlier on PATH).
my $python = '/usr/bin/python3';

# Python: load, control, decisions, Syst05 (or why not), an error with its SQLSTATE.
my @files = map { "$dir/$_" } ('syst01.xml', 'syst04_1.xml', 'syst04_2.xml');
my ($out, $perr) = ('', '');
ok(run([ $python, "$examples/control_year.py", '2024', '300', @files ], '>', \$out, '2>', \$perr),
	'control_year.py runs') or diag($perr);
note($out);
for my $f (@files)
{
	my $n = () = slurp_file($f) =~ /<Household /g;
	like($out, qr/^loaded \Q$f\E: $n households$/m, "control_year.py loads $f ($n households)");
}
my $reasons = $node->safe_psql('postgres', q{
	SELECT string_agg(reason || ': ' || n, E'\n' ORDER BY reason)
	FROM (SELECT reason, count(*) AS n FROM inami.control_decision WHERE control_year = 2024 GROUP BY reason) r});
like($reasons, qr/STOPSYST: \d+/, 'the control decided the year');
like($out, qr/^\Q$reasons\E$/m, 'control_year.py prints the decisions per reason');
my $provisional = $node->safe_psql('postgres',
	'SELECT count(*) FROM inami.control_decision WHERE control_year = 2024 AND provisional');
if ($provisional > 0)
{
	like($out, qr/^no Syst05 yet \(55000\): .+; .+$/m, "with $provisional provisional decisions: the 55000 with its HINT");
}
else
{
	my $feedbacks = $node->safe_psql('postgres', q{
		SELECT count(*) FROM inami.read_syst05(inami.syst05_document(2024, '300')::text)});
	like($out, qr/^Syst05 of OA 300: $feedbacks feedbacks$/m, "the Syst05 of OA 300: $feedbacks feedbacks");
}
like($out, qr/^55000: no IM income ceiling for income year 2150 \(HINT: .*INSERT INTO inami\.im_ceiling/m,
	'an error read by its SQLSTATE, with its HINT');

# Without autocommit, psycopg opens a transaction and the CALL cannot commit: 2D000.
($out, $perr) = ('', '');
run([ $python, '-c', q{
import psycopg
with psycopg.connect() as conn:
    try:
        conn.execute("CALL inami.run_systematic_control(2024)")
    except psycopg.errors.InvalidTransactionTermination as e:
        print(e.sqlstate, e.diag.message_primary)
} ], '>', \$out, '2>', \$perr);
is($out, "2D000 invalid transaction termination\n",
	'CALL in a transaction block fails with 2D000: hence autocommit in the example') or diag($perr);

# Shell: the control, the decisions, the Syst05 written to a file, valid against its schema.
($out, $perr) = ('', '');
ok(run([ 'sh', "$examples/control_year.sh", '2024', '300', "$dir/syst05.xml" ], '>', \$out, '2>', \$perr),
	'control_year.sh runs') or diag($perr);
like($out, qr/^\Q$reasons\E$/m, 'control_year.sh prints the decisions per reason');
like($out, qr/^Syst05 of OA 300 written to /m, 'and says where the Syst05 is');
if ($provisional == 0)
{
	my $xerr = '';
	ok(run([ 'xmllint', '--noout', '--schema', "$root/xsd/syst05.xsd", "$dir/syst05.xml" ], '2>', \$xerr),
		'the Syst05 it wrote validates against xsd/syst05.xsd') or diag($xerr);
}
else
{
	ok(!-s "$dir/syst05.xml", 'provisional decisions: psql stopped on the 55000 and wrote nothing');
}

# A run that fails: the script stops with the run log's SQLSTATE and message, exit 1.
$node->safe_psql('postgres', q{
	INSERT INTO inami.flow_file (kind, year, oa, income_year, shipment, source_name, record_count)
	VALUES ('Syst01', 2026, '300', NULL, NULL, 'client test Syst01 2026', 1);
	INSERT INTO inami.syst01_household VALUES (2026, '300202685073003328', '300', '85073003328',
		(SELECT file_id FROM inami.flow_file WHERE source_name = 'client test Syst01 2026'));
	INSERT INTO inami.syst01_member VALUES (2026, '300202685073003328', '85073003328');
});
($out, $perr) = ('', '');
ok(!run([ 'sh', "$examples/control_year.sh", '2026', '300', "$dir/syst05-2026.xml" ], '>', \$out, '2>', \$perr),
	'control_year.sh fails for a year it cannot decide');
like($perr, qr/^run \d+ failed: 55000 no IM income ceiling for income year 2024/m,
	'and says why, from the run log');

$node->stop;
done_testing();
